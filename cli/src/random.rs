//! Random keys and message ids, from the operating system's generator.

use crate::Failure;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], Failure> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| {
        Failure::new(format!(
            "the operating system's random generator failed: {e}"
        ))
    })?;
    Ok(out)
}

/// `prefix` and `len` random letters and digits, e.g. `msg_2Kq8…`: a message id.
pub fn id(prefix: &str, len: usize) -> Result<String, Failure> {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    while out.len() < prefix.len() + len {
        for b in bytes::<32>()? {
            // 248 = 4 × 62: the bytes above it are skipped, so every character is equally likely.
            if let Some(&c) = ALPHABET.get(usize::from(b % 62))
                && b < 248
                && out.len() < prefix.len() + len
            {
                out.push(char::from(c));
            }
        }
    }
    Ok(out)
}
