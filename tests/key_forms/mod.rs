//! Every way a key could show up in text, for the tests that prove no output holds key material
//! (`tests/secrets.rs`, `tests/explain.rs`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// The key's bytes as text, as hex, as a Rust byte-array Debug, and as base64 (standard and
/// URL-safe, padded and not, with `whsec_`), whole, and as any 12-character window of the
/// base64: a partial leak counts.
pub fn forms(key: &[u8]) -> Vec<String> {
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![
        String::from_utf8_lossy(key).into_owned(),
        hex.clone(),
        hex.to_uppercase(),
        format!("{key:?}"),
        format!("{:?}", &key[..4]).trim_end_matches(']').to_owned(),
    ];
    for b64 in [
        STANDARD.encode(key),
        STANDARD_NO_PAD.encode(key),
        URL_SAFE.encode(key),
        URL_SAFE_NO_PAD.encode(key),
    ] {
        forms.push(format!("whsec_{b64}"));
        let chars: Vec<char> = b64.chars().collect();
        for w in chars.windows(12) {
            forms.push(w.iter().collect());
        }
    }
    forms
}
