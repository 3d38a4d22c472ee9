//! Reading the entries of a signature header, and comparing MACs in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::{Choice, ConstantTimeEq};

use crate::error::Error;

/// The most entries a signature header may hold; a header with more is refused with
/// [`Error::TooManySignatures`] before any hashing.
///
/// A sender puts one entry per key it signs with: one normally, two during a rotation, a few
/// while moving between schemes. The cap bounds the work a hostile header can cause to one
/// linear scan of the header plus this many base64 decodes and constant-time comparisons.
pub const MAX_SIGNATURE_ENTRIES: usize = 16;

/// The most well-formed `v1a` entries verified per call; further ones are not examined.
///
/// An Ed25519 verification costs about as much as hashing a few KiB, for every public key in
/// force, so the cap keeps a hostile header from multiplying the work. A sender puts one `v1a`
/// entry per signing key: one, or two during a rotation.
pub const MAX_V1A_ENTRIES: usize = 4;

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
    v1: [&'h [u8; V1_B64_LEN]; MAX_SIGNATURE_ENTRIES],
    v1_len: usize,
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
            v1: [&[0; V1_B64_LEN]; MAX_SIGNATURE_ENTRIES],
            v1_len: 0,
            #[cfg(feature = "ed25519")]
            v1a: [&[0; V1A_B64_LEN]; MAX_V1A_ENTRIES],
            #[cfg(feature = "ed25519")]
            v1a_len: 0,
            #[cfg(feature = "ed25519")]
            v1a_unexamined: 0,
        }
    }

    /// Reads the values of the signature header `name`, splitting each on spaces.
    ///
    /// Entries that are empty, lack a comma, carry another version than `v1` (or `v1a`), or
    /// whose value has not the length of a canonical encoding are skipped; more than
    /// [`MAX_SIGNATURE_ENTRIES`] non-empty entries is an error.
    #[cfg(test)]
    pub(crate) fn read(
        &mut self,
        values: impl IntoIterator<Item = &'h [u8]>,
        name: &'static str,
    ) -> Result<(), Error> {
        let mut seen = 0usize;
        for value in values {
            self.read_value(value, &mut seen, name)?;
        }
        Ok(())
    }

    /// Reads one value of the signature header; `seen` counts the non-empty entries so far.
    pub(crate) fn read_value(
        &mut self,
        value: &'h [u8],
        seen: &mut usize,
        name: &'static str,
    ) -> Result<(), Error> {
        // The usual value is a single `v1` entry: recognised by its length and the absence
        // of spaces, checked over a fixed-size array (which vectorizes, unlike a search).
        if let Some(b64) = value.strip_prefix(b"v1,")
            && let Ok(b64) = <&[u8; V1_B64_LEN]>::try_from(b64)
            && !b64.iter().fold(false, |space, &b| space | (b == b' '))
        {
            return self.push_entry(b64, true, seen, name);
        }
        // A value without a space is one entry: `contains` scans a word at a time, where
        // `split` goes byte by byte (which matters for a hostile header of many KiB).
        let (single, several) = if value.contains(&b' ') {
            (None, Some(value.split(|&b| b == b' ')))
        } else {
            (Some(value), None)
        };
        let entries = single.into_iter().chain(several.into_iter().flatten());
        for entry in entries.filter(|e| !e.is_empty()) {
            match entry.strip_prefix(b"v1,") {
                Some(b64) => self.push_entry(b64, true, seen, name)?,
                None => self.push_entry(entry, false, seen, name)?,
            }
        }
        Ok(())
    }

    /// Counts one non-empty entry and keeps it if it can match: `b64` is the value after
    /// `v1,` when `v1` is set, or else the whole entry.
    fn push_entry(
        &mut self,
        b64: &'h [u8],
        v1: bool,
        seen: &mut usize,
        name: &'static str,
    ) -> Result<(), Error> {
        *seen += 1;
        if *seen > MAX_SIGNATURE_ENTRIES {
            return Err(Error::TooManySignatures {
                header: name,
                limit: MAX_SIGNATURE_ENTRIES,
            });
        }
        if v1 {
            self.push_v1(b64);
        }
        #[cfg(feature = "ed25519")]
        if !v1 && let Some(b64) = b64.strip_prefix(b"v1a,") {
            self.push_v1a(b64);
        }
        Ok(())
    }

    fn push_v1(&mut self, b64: &'h [u8]) {
        let Ok(b64) = <&[u8; V1_B64_LEN]>::try_from(b64) else {
            return;
        };
        if let Some(slot) = self.v1.get_mut(self.v1_len) {
            *slot = b64;
            self.v1_len += 1;
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
    /// the canonical base64 of 64 bytes, examined or not.
    pub(crate) fn well_formed(&self) -> usize {
        let mut tag = [0u8; V1_LEN];
        let v1 = self
            .v1()
            .iter()
            .filter(|b64| matches!(STANDARD.decode_slice(b64, &mut tag), Ok(V1_LEN)))
            .count();
        #[cfg(feature = "ed25519")]
        return v1 + self.v1a_len + self.v1a_unexamined;
        #[cfg(not(feature = "ed25519"))]
        return v1;
    }

    /// Whether `tag` is any kept `v1` entry, examining every one in constant time.
    pub(crate) fn matches_v1(&self, tag: &[u8; V1_LEN]) -> bool {
        let encoded = encode_tag(tag);
        let mut any = Choice::from(0);
        for candidate in self.v1() {
            any |= ct_eq_text(candidate, &encoded);
        }
        any.into()
    }
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

    impl<'h> Candidates<'h> {
        /// Every value of the header `name` in `headers`.
        fn from_headers<H: crate::HeaderSource + ?Sized>(
            headers: &'h H,
            name: &'static str,
        ) -> Result<Self, Error> {
            let mut c = Self::new();
            c.read(headers.header_values(name), name)?;
            Ok(c)
        }
    }

    fn read(value: &str) -> Result<Candidates<'_>, Error> {
        let mut c = Candidates::new();
        c.read([value.as_bytes()], "webhook-signature")?;
        Ok(c)
    }

    #[test]
    fn well_formed_v1_entries_are_kept() {
        let one = format!("v1,{GOOD}");
        let c = read(&one).unwrap();
        assert_eq!((c.v1().len(), c.well_formed()), (1, 1));
        assert!(c.matches_v1(&STANDARD.decode(GOOD).unwrap().try_into().unwrap()));
        assert!(!c.matches_v1(&[0; V1_LEN]));
        let two = format!("  v1,{GOOD}   v1,{GOOD} ");
        let c = read(&two).unwrap();
        assert_eq!((c.v1().len(), c.well_formed()), (2, 2));
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
            let c = read(value).unwrap();
            assert_eq!(c.well_formed(), 0, "{value:?}");
            // Whatever was kept matches no tag, not even the one its bytes would decode to.
            assert!(!c.matches_v1(&STANDARD.decode(GOOD).unwrap().try_into().unwrap()));
        }
    }

    #[test]
    fn too_many_entries_is_an_error() {
        let ok = vec!["v2,x"; MAX_SIGNATURE_ENTRIES].join(" ");
        assert!(read(&ok).is_ok());
        let too_many = vec!["v2,x"; MAX_SIGNATURE_ENTRIES + 1].join(" ");
        assert_eq!(
            read(&too_many).err(),
            Some(Error::TooManySignatures {
                header: "webhook-signature",
                limit: MAX_SIGNATURE_ENTRIES
            })
        );
    }

    #[test]
    fn entries_across_repeated_headers_count() {
        let h = [
            ("webhook-signature", "v2,x".to_string()),
            ("Webhook-Signature", format!("v1,{GOOD}")),
        ];
        assert_eq!(
            Candidates::from_headers(&h, "webhook-signature")
                .unwrap()
                .well_formed(),
            1
        );
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
