//! Reading the entries of a signature header, and comparing MACs in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::{Choice, ConstantTimeEq};

/// The most well-formed `v1a` entries verified per call; further ones are not examined.
///
/// An Ed25519 verification costs about as much as hashing a few KiB, for every public key in
/// force, so the cap keeps a hostile header from multiplying the work. A sender puts one `v1a`
/// entry per signing key: one, or two during a rotation. Entries past the cap are not examined
/// (a delivery whose only valid `v1a` entry is the fifth does not verify); they are counted in
/// [`Error::NoMatchingSignature`](crate::Error::NoMatchingSignature)'s `entries`.
///
/// `v1` entries have no cap: each costs one comparison with the tag computed for a key, so any
/// number of them is examined in time linear in the header's length.
pub const MAX_V1A_ENTRIES: usize = 4;

/// How many `v1` entries are kept by reference as the header is read. A header with more (which
/// no sender sends: one entry per key it signs with) is read again, entry by entry, for each key
/// tried, so that any number is examined with no allocation.
const KEPT_V1: usize = 16;

/// Length of an Ed25519 signature.
#[cfg(feature = "ed25519")]
pub(crate) const V1A_LEN: usize = 64;
/// Length of the canonical padded base64 of a 64-byte signature.
#[cfg(feature = "ed25519")]
const V1A_B64_LEN: usize = 88;

/// Length of an HMAC-SHA256 tag.
pub(crate) const V1_LEN: usize = 32;
/// Length of the canonical padded base64 of a 32-byte tag.
const V1_B64_LEN: usize = 44;

/// The `v1` (and, with the `ed25519` feature, `v1a`) entries of one delivery that can match.
///
/// A `v1` entry is kept as its base64 text when it has the length of a tag's canonical
/// encoding: each computed tag is encoded once and compared with every kept text in constant
/// time, which is the same test as decoding every entry (the `STANDARD` engine accepts only the
/// canonical, padded encoding, so an entry decodes to a tag exactly when it is that tag's
/// encoding) for the cost of one encode per key instead of one decode per entry. `v1a` entries
/// are kept as text too, once they are known to decode, and decoded onto the stack when a
/// public key checks them (verifying needs the signature bytes).
pub(crate) struct Candidates<'h> {
    v1: [&'h [u8; V1_B64_LEN]; KEPT_V1],
    v1_len: usize,
    /// More `v1` entries of the right length than `v1` holds: [`matches_v1`](Self::matches_v1)
    /// and [`well_formed`](Self::well_formed) then read the header's values again.
    v1_overflow: bool,
    #[cfg(feature = "ed25519")]
    v1a: [&'h [u8; V1A_B64_LEN]; MAX_V1A_ENTRIES],
    #[cfg(feature = "ed25519")]
    v1a_len: usize,
    /// Well-formed `v1a` entries past [`MAX_V1A_ENTRIES`]: not examined, but counted in
    /// [`well_formed`](Self::well_formed) for the error that reports them.
    #[cfg(feature = "ed25519")]
    v1a_unexamined: usize,
}

/// A `v1a` entry's value decoded, if it is the canonical base64 of a 64-byte signature.
#[cfg(feature = "ed25519")]
fn decode_v1a(b64: &[u8; V1A_B64_LEN]) -> Option<[u8; V1A_LEN]> {
    let mut sig = [0; V1A_LEN];
    matches!(STANDARD.decode_slice(b64, &mut sig), Ok(V1A_LEN)).then_some(sig)
}

impl<'h> Candidates<'h> {
    /// No entries yet. Build it where it is used and fill it with [`read_value`](Self::read_value): the
    /// struct is a few hundred bytes, and moving it around costs more than filling it.
    pub(crate) fn new() -> Self {
        Self {
            v1: [&[0; V1_B64_LEN]; KEPT_V1],
            v1_len: 0,
            v1_overflow: false,
            #[cfg(feature = "ed25519")]
            v1a: [&[0; V1A_B64_LEN]; MAX_V1A_ENTRIES],
            #[cfg(feature = "ed25519")]
            v1a_len: 0,
            #[cfg(feature = "ed25519")]
            v1a_unexamined: 0,
        }
    }

    /// Reads the values of a signature header, splitting each on spaces.
    ///
    /// Entries that are empty, lack a comma, carry another version than `v1` (or `v1a`), or
    /// whose value has not the length of a canonical encoding are skipped. Any number of
    /// entries is accepted.
    #[cfg(test)]
    pub(crate) fn read(&mut self, values: impl IntoIterator<Item = &'h [u8]>) {
        for value in values {
            self.read_value(value);
        }
    }

    /// Reads one value of the signature header.
    pub(crate) fn read_value(&mut self, value: &'h [u8]) {
        // The usual value is a single `v1` entry: recognised by its length and the absence
        // of spaces, checked over a fixed-size array (which vectorizes, unlike a search).
        if let Some(b64) = value.strip_prefix(b"v1,")
            && let Ok(b64) = <&[u8; V1_B64_LEN]>::try_from(b64)
            && !b64.iter().fold(false, |space, &b| space | (b == b' '))
        {
            return self.push_v1(b64);
        }
        for entry in entries(value) {
            match entry.strip_prefix(b"v1,") {
                Some(b64) => self.push_v1(b64),
                #[cfg(feature = "ed25519")]
                None => {
                    if let Some(b64) = entry.strip_prefix(b"v1a,") {
                        self.push_v1a(b64);
                    }
                }
                #[cfg(not(feature = "ed25519"))]
                None => {}
            }
        }
    }

    fn push_v1(&mut self, b64: &'h [u8]) {
        let Ok(b64) = <&[u8; V1_B64_LEN]>::try_from(b64) else {
            return;
        };
        match self.v1.get_mut(self.v1_len) {
            Some(slot) => {
                *slot = b64;
                self.v1_len += 1;
            }
            None => self.v1_overflow = true,
        }
    }

    #[cfg(feature = "ed25519")]
    fn push_v1a(&mut self, b64: &'h [u8]) {
        let Ok(b64) = <&[u8; V1A_B64_LEN]>::try_from(b64) else {
            return;
        };
        // Kept only if it decodes (STANDARD requires padding and rejects non-canonical
        // trailing bits); kept as text, a reference, so that the pending state of a request
        // stays small, and decoded again when a public key checks it.
        if decode_v1a(b64).is_none() {
            return;
        }
        match self.v1a.get_mut(self.v1a_len) {
            Some(slot) => {
                *slot = b64;
                self.v1a_len += 1;
            }
            None => self.v1a_unexamined += 1,
        }
    }

    /// The kept `v1a` signatures, decoded.
    #[cfg(feature = "ed25519")]
    pub(crate) fn v1a(&self) -> impl Iterator<Item = [u8; V1A_LEN]> + '_ {
        self.v1a
            .get(..self.v1a_len)
            .unwrap_or_default()
            .iter()
            .filter_map(|b64| decode_v1a(b64))
    }

    /// The kept `v1` entries, as base64 text.
    fn v1(&self) -> &[&'h [u8; V1_B64_LEN]] {
        self.v1.get(..self.v1_len).unwrap_or_default()
    }

    /// Every `v1` entry of the right length: the kept ones, or, when there were more than fit,
    /// all of them read again from `values` (every value of the signature header).
    fn each_v1<'v, I: Iterator<Item = &'v [u8]>>(
        &self,
        values: impl FnOnce() -> I,
        mut f: impl FnMut(&[u8; V1_B64_LEN]),
    ) {
        if self.v1_overflow {
            for value in values() {
                for entry in entries(value) {
                    if let Some(b64) = entry.strip_prefix(b"v1,")
                        && let Ok(b64) = <&[u8; V1_B64_LEN]>::try_from(b64)
                    {
                        f(b64);
                    }
                }
            }
        } else {
            for b64 in self.v1() {
                f(b64);
            }
        }
    }

    /// Whether any `v1` entry was kept.
    pub(crate) fn has_v1(&self) -> bool {
        self.v1_len > 0
    }

    /// Whether any entry was kept: if none, no key is worth hashing the body for.
    pub(crate) fn is_empty(&self) -> bool {
        #[cfg(feature = "ed25519")]
        return self.v1_len + self.v1a_len == 0;
        #[cfg(not(feature = "ed25519"))]
        return self.v1_len == 0;
    }

    /// How many entries are well-formed: `v1` entries that are the canonical base64 of 32
    /// bytes (checked by decoding, only when an error is reported), and `v1a` entries that are
    /// the canonical base64 of 64 bytes, examined or not. `values` gives the signature header's
    /// values again, for a header with more `v1` entries than were kept.
    pub(crate) fn well_formed<'v, I: Iterator<Item = &'v [u8]>>(
        &self,
        values: impl FnOnce() -> I,
    ) -> usize {
        let mut tag = [0u8; V1_LEN];
        let mut v1 = 0;
        self.each_v1(values, |b64| {
            v1 += usize::from(matches!(STANDARD.decode_slice(b64, &mut tag), Ok(V1_LEN)));
        });
        #[cfg(feature = "ed25519")]
        return v1 + self.v1a_len + self.v1a_unexamined;
        #[cfg(not(feature = "ed25519"))]
        return v1;
    }

    /// Whether `tag` is any `v1` entry, examining every one in constant time. `values` gives the
    /// signature header's values again, for a header with more `v1` entries than were kept.
    pub(crate) fn matches_v1<'v, I: Iterator<Item = &'v [u8]>>(
        &self,
        tag: &[u8; V1_LEN],
        values: impl FnOnce() -> I,
    ) -> bool {
        let encoded = encode_tag(tag);
        let mut any = Choice::from(0);
        self.each_v1(values, |candidate| any |= ct_eq_text(candidate, &encoded));
        any.into()
    }
}

/// The non-empty space-separated entries of one header value.
pub(crate) fn entries(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    // A value without a space is one entry: `contains` scans a word at a time, where `split`
    // goes byte by byte (which matters for a hostile header of many KiB).
    let (single, several) = if value.contains(&b' ') {
        (None, Some(value.split(|&b| b == b' ')))
    } else {
        (Some(value), None)
    };
    single
        .into_iter()
        .chain(several.into_iter().flatten())
        .filter(|e| !e.is_empty())
}

/// The canonical padded base64 of a tag, as the `STANDARD` engine writes it: 44 characters,
/// as five little-endian words of eight and one of four.
///
/// Written out for the one fixed size, in registers, with no table and no branch: each six
/// bytes of the tag become one word of eight sextets (spread with shifts and masks), and all
/// eight sextets are mapped to their characters at once with byte-lane arithmetic (SWAR). The
/// general encoder takes several times longer, and this runs after the hash, on the critical
/// path of every verification (a test checks it against `base64` on every byte value in every
/// position).
fn encode_tag(tag: &[u8; V1_LEN]) -> EncodedTag {
    let (chunks, last) = tag.as_chunks::<6>();
    let mut words = [0u64; 5];
    for (chunk, word) in chunks.iter().zip(words.iter_mut()) {
        let [a, b, c, d, e, f] = *chunk;
        *word = base64_lanes(sextet_lanes(u64::from_be_bytes([0, 0, a, b, c, d, e, f])));
    }
    // The last two bytes: three characters (the third from four bits and two zero bits), then
    // the `=` of padding.
    let [a, b] = <[u8; 2]>::try_from(last).unwrap_or_default();
    let lanes = base64_lanes(sextet_lanes(u64::from_be_bytes([0, 0, a, b, 0, 0, 0, 0])));
    // The four characters are in the low half; only three are kept.
    let tail = (lanes as u32 & 0x00ff_ffff) | u32::from(b'=') << 24;
    EncodedTag { words, tail }
}

/// A tag's base64 text as words: bytes 0 to 39 in `words`, 40 to 43 in `tail`.
pub(crate) struct EncodedTag {
    words: [u64; 5],
    tail: u32,
}

/// The eight sextets of a 48-bit value (most significant first), one per byte lane of the
/// result, lane 0 (the least significant byte) first.
#[inline(always)]
fn sextet_lanes(n: u64) -> u64 {
    // The high 24 bits (four sextets) in the low 32-bit half, the low 24 bits in the high
    // half; then within each half, sextet k moves to byte k.
    let y = (n >> 24) | ((n & 0x00ff_ffff) << 32);
    ((y >> 18) & 0x0000_003f_0000_003f)
        | ((y >> 4) & 0x0000_3f00_0000_3f00)
        | ((y << 10) & 0x003f_0000_003f_0000)
        | ((y << 24) & 0x3f00_0000_3f00_0000)
}

/// Maps eight sextets (one per byte lane, each 0 to 63) to characters of the standard alphabet
/// `A-Z a-z 0-9 + /`, all lanes at once.
///
/// Each lane starts at `s + 'A'` and is corrected at the start of each later range of the
/// alphabet: +6 from 26 (`a`), -75 from 52 (`0`), -15 from 62 (`+`), +3 at 63 (`/`). Every
/// intermediate lane value stays within 0..=255, so no carry or borrow crosses lanes.
#[inline(always)]
fn base64_lanes(sextets: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // 1 in each lane whose sextet is at least `k`: with the high bit set, subtracting `k`
    // (at most 63) from a lane leaves the high bit set exactly when the sextet is >= k.
    let at_least = |k: u64| (((sextets | HIGH) - k * ONES) & HIGH) >> 7;
    (sextets + u64::from(b'A') * ONES + at_least(26) * 6 - at_least(52) * 75 - at_least(62) * 15)
        + at_least(63) * 3
}

/// Whether the base64 text `entry` is the encoded tag, in constant time: every word is XORed
/// and ORed together, with no branch on the data and no early exit, and the result compared
/// with zero by `subtle`.
fn ct_eq_text(entry: &[u8; V1_B64_LEN], tag: &EncodedTag) -> Choice {
    let (chunks, rest) = entry.as_chunks::<8>();
    let words = chunks
        .iter()
        .zip(&tag.words)
        .fold(0u64, |acc, (chunk, word)| {
            acc | (u64::from_le_bytes(*chunk) ^ word)
        });
    let tail = <[u8; 4]>::try_from(rest).map_or(u32::MAX, u32::from_le_bytes) ^ tag.tail;
    (words | u64::from(tail)).ct_eq(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    /// The entries of one header value, with the value itself to read again.
    struct Read<'h> {
        value: &'h [u8],
        c: Candidates<'h>,
    }

    impl Read<'_> {
        fn well_formed(&self) -> usize {
            self.c.well_formed(|| core::iter::once(self.value))
        }

        fn matches(&self, tag: &[u8; V1_LEN]) -> bool {
            self.c.matches_v1(tag, || core::iter::once(self.value))
        }
    }

    fn read(value: &str) -> Read<'_> {
        let mut c = Candidates::new();
        c.read([value.as_bytes()]);
        Read {
            value: value.as_bytes(),
            c,
        }
    }

    fn good_tag() -> [u8; V1_LEN] {
        STANDARD.decode(GOOD).unwrap().try_into().unwrap()
    }

    #[test]
    fn well_formed_v1_entries_are_kept() {
        let one = format!("v1,{GOOD}");
        let r = read(&one);
        assert_eq!((r.c.v1().len(), r.well_formed()), (1, 1));
        assert!(r.matches(&good_tag()));
        assert!(!r.matches(&[0; V1_LEN]));
        let two = format!("  v1,{GOOD}   v1,{GOOD} ");
        let r = read(&two);
        assert_eq!((r.c.v1().len(), r.well_formed()), (2, 2));
    }

    #[test]
    fn malformed_entries_are_skipped() {
        for value in [
            "",
            "v1",
            "v1,",
            &format!("v2,{GOOD}"),
            &format!("V1,{GOOD}"),
            &format!("v1a,{GOOD}"),
            &format!("v1;{GOOD}"),
            &format!("v1,{}", GOOD.trim_end_matches('=')),
            &format!("v1,{GOOD}="),
            // Same bytes, non-canonical final character (trailing bits set).
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",
            "v1,g0hM9SsE",
            "v1,dawfeoifkpqwoekfpqoekf",
            &format!("v1,{}", GOOD.replace('+', "-")),
            &format!("v1, {GOOD}"),
        ] {
            let r = read(value);
            assert_eq!(r.well_formed(), 0, "{value:?}");
            // Whatever was kept matches no tag, not even the one its bytes would decode to.
            assert!(!r.matches(&good_tag()));
        }
    }

    /// Any number of entries is read, and a match is found wherever it stands: past the
    /// entries kept by reference too.
    #[test]
    fn any_number_of_entries_is_examined() {
        let junk = format!("v1,{}", "A".repeat(43) + "=");
        for (before, after) in [(0, 1000), (15, 0), (16, 0), (17, 3), (1000, 0), (999, 999)] {
            let mut entries = vec![junk.as_str(); before];
            let good = format!("v1,{GOOD}");
            entries.push(&good);
            entries.extend(vec![junk.as_str(); after]);
            let value = entries.join(" ");
            let r = read(&value);
            assert!(r.matches(&good_tag()), "{before} before, {after} after");
            assert!(!r.matches(&[1; V1_LEN]));
            assert_eq!(r.well_formed(), before + after + 1);
        }
        // Unknown versions in any number are skipped, not an error.
        let many = vec!["v2,x"; 10_000].join(" ");
        assert_eq!(read(&many).well_formed(), 0);
    }

    #[test]
    fn entries_across_repeated_headers_count() {
        let h = [
            ("webhook-signature", "v2,x".to_string()),
            ("Webhook-Signature", format!("v1,{GOOD}")),
        ];
        let mut c = Candidates::new();
        c.read(crate::HeaderSource::header_values(&h, "webhook-signature"));
        assert_eq!(
            c.well_formed(|| crate::HeaderSource::header_values(&h, "webhook-signature")),
            1
        );
        // More entries than are kept, across two values: the rescan reads both.
        let a = vec![format!("v1,{}", "B".repeat(43) + "="); 20].join(" ");
        let h = [
            ("webhook-signature", a),
            ("webhook-signature", format!("v1,{GOOD}")),
        ];
        let mut c = Candidates::new();
        c.read(crate::HeaderSource::header_values(&h, "webhook-signature"));
        assert!(c.matches_v1(&good_tag(), || {
            crate::HeaderSource::header_values(&h, "webhook-signature")
        }));
    }

    /// The text of `encode_tag`'s words.
    fn text(tag: &[u8; V1_LEN]) -> String {
        let encoded = encode_tag(tag);
        let mut bytes: Vec<u8> = encoded.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.extend(encoded.tail.to_le_bytes());
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn encode_tag_is_the_standard_encoding() {
        for s in 0..64u8 {
            let expected = STANDARD.encode([s << 2]).as_bytes()[0];
            let lanes = base64_lanes(u64::from(s) * 0x0101_0101_0101_0101);
            assert_eq!(lanes.to_le_bytes(), [expected; 8], "sextet {s}");
        }
        // Every byte value in every position, and a spread of mixed tags.
        for byte in 0..=255u8 {
            for pos in 0..V1_LEN {
                let mut tag = [0u8; V1_LEN];
                tag[pos] = byte;
                assert_eq!(text(&tag), STANDARD.encode(tag));
            }
            let tag: [u8; V1_LEN] = core::array::from_fn(|i| {
                byte.wrapping_mul(31)
                    .wrapping_add((i as u8).wrapping_mul(97))
            });
            assert_eq!(text(&tag), STANDARD.encode(tag));
        }
        // And many pseudo-random tags (xorshift64).
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let tag: [u8; V1_LEN] = core::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            });
            assert_eq!(text(&tag), STANDARD.encode(tag));
        }
    }

    #[test]
    fn ct_eq_text_compares_every_bit() {
        let tag: [u8; V1_LEN] = core::array::from_fn(|i| i as u8 * 7);
        let words = encode_tag(&tag);
        let entry: [u8; V1_B64_LEN] = text(&tag).as_bytes().try_into().unwrap();
        assert!(bool::from(ct_eq_text(&entry, &words)));
        for i in 0..V1_B64_LEN {
            for bit in 0..8 {
                let mut other = entry;
                other[i] ^= 1 << bit;
                assert!(
                    !bool::from(ct_eq_text(&other, &words)),
                    "byte {i} bit {bit}"
                );
            }
        }
    }
}
