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

/// The well-formed `v1` (and, with the `ed25519` feature, `v1a`) entries of one delivery,
/// decoded onto the stack.
pub(crate) struct Candidates {
    v1: [[u8; V1_LEN]; MAX_SIGNATURE_ENTRIES],
    v1_len: usize,
    #[cfg(feature = "ed25519")]
    v1a: [[u8; V1A_LEN]; MAX_V1A_ENTRIES],
    #[cfg(feature = "ed25519")]
    v1a_len: usize,
}

impl Candidates {
    /// No entries yet. Build it where it is used and fill it with [`read`](Self::read): the
    /// struct is a few hundred bytes, and moving it around costs more than filling it.
    pub(crate) fn new() -> Self {
        Self {
            v1: [[0; V1_LEN]; MAX_SIGNATURE_ENTRIES],
            v1_len: 0,
            #[cfg(feature = "ed25519")]
            v1a: [[0; V1A_LEN]; MAX_V1A_ENTRIES],
            #[cfg(feature = "ed25519")]
            v1a_len: 0,
        }
    }

    /// Reads the values of the signature header `name`, splitting each on spaces.
    ///
    /// Entries that are empty, lack a comma, carry another version than `v1`, or whose value is
    /// not the canonical base64 of 32 bytes are skipped; more than
    /// [`MAX_SIGNATURE_ENTRIES`] non-empty entries is an error.
    pub(crate) fn read<'h>(
        &mut self,
        values: impl Iterator<Item = &'h [u8]>,
        name: &'static str,
    ) -> Result<(), Error> {
        let mut seen = 0usize;
        for value in values {
            // The usual value is a single entry: `contains` scans a word at a time, where
            // `split` goes byte by byte.
            let (single, several) = if value.contains(&b' ') {
                (None, Some(value.split(|&b| b == b' ')))
            } else {
                (Some(value), None)
            };
            let entries = single.into_iter().chain(several.into_iter().flatten());
            for entry in entries.filter(|e| !e.is_empty()) {
                seen += 1;
                if seen > MAX_SIGNATURE_ENTRIES {
                    return Err(Error::TooManySignatures {
                        header: name,
                        limit: MAX_SIGNATURE_ENTRIES,
                    });
                }
                if let Some(b64) = entry.strip_prefix(b"v1,") {
                    self.push_v1(b64);
                }
                #[cfg(feature = "ed25519")]
                if let Some(b64) = entry.strip_prefix(b"v1a,") {
                    self.push_v1a(b64);
                }
            }
        }
        Ok(())
    }

    fn push_v1(&mut self, b64: &[u8]) {
        if b64.len() != V1_B64_LEN {
            return;
        }
        let Some(slot) = self.v1.get_mut(self.v1_len) else {
            return;
        };
        // STANDARD requires padding and rejects non-canonical trailing bits.
        if let Ok(V1_LEN) = STANDARD.decode_slice(b64, slot) {
            self.v1_len += 1;
        }
    }

    #[cfg(feature = "ed25519")]
    fn push_v1a(&mut self, b64: &[u8]) {
        if b64.len() != V1A_B64_LEN {
            return;
        }
        let Some(slot) = self.v1a.get_mut(self.v1a_len) else {
            return;
        };
        if let Ok(V1A_LEN) = STANDARD.decode_slice(b64, slot) {
            self.v1a_len += 1;
        }
    }

    /// The decoded `v1a` signatures.
    #[cfg(feature = "ed25519")]
    pub(crate) fn v1a(&self) -> &[[u8; V1A_LEN]] {
        self.v1a.get(..self.v1a_len).unwrap_or_default()
    }

    /// The decoded `v1` tags.
    pub(crate) fn v1(&self) -> &[[u8; V1_LEN]] {
        self.v1.get(..self.v1_len).unwrap_or_default()
    }

    /// How many entries were well-formed (and are examined).
    pub(crate) fn len(&self) -> usize {
        #[cfg(feature = "ed25519")]
        return self.v1_len + self.v1a_len;
        #[cfg(not(feature = "ed25519"))]
        return self.v1_len;
    }

    /// Whether `tag` equals any decoded `v1` tag, examining every one in constant time.
    pub(crate) fn matches_v1(&self, tag: &[u8; V1_LEN]) -> bool {
        let mut any = Choice::from(0);
        for candidate in self.v1() {
            any |= ct_eq_32(candidate, tag);
        }
        any.into()
    }
}

/// Constant-time equality of two 32-byte values: the four `u64` words are XORed and ORed
/// together (no branch, no early exit), and the result compared with zero by `subtle`.
pub(crate) fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> Choice {
    let (a, _) = a.as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let diff = a.iter().zip(b).fold(0u64, |acc, (x, y)| {
        acc | (u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y))
    });
    diff.ct_eq(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    impl Candidates {
        /// Every value of the header `name` in `headers`.
        fn from_headers<H: crate::HeaderSource + ?Sized>(
            headers: &H,
            name: &'static str,
        ) -> Result<Self, Error> {
            let mut c = Self::new();
            c.read(headers.header_values(name), name)?;
            Ok(c)
        }
    }

    fn read(value: &str) -> Result<Candidates, Error> {
        Candidates::from_headers(&[("webhook-signature", value)], "webhook-signature")
    }

    #[test]
    fn well_formed_v1_entries_are_kept() {
        let c = read(&format!("v1,{GOOD}")).unwrap();
        assert_eq!(c.len(), 1);
        let c = read(&format!("  v1,{GOOD}   v1,{GOOD} ")).unwrap();
        assert_eq!(c.len(), 2);
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
            assert_eq!(read(value).unwrap().len(), 0, "{value:?}");
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
                .len(),
            1
        );
    }

    #[test]
    fn ct_eq_32_compares_every_word() {
        let a = [7u8; 32];
        assert!(bool::from(ct_eq_32(&a, &a)));
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 1;
            assert!(!bool::from(ct_eq_32(&a, &b)), "byte {i}");
        }
    }
}
