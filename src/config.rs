//! Key configuration strings: `whsec_… whsec_…@2026-11-27T01:00:00Z`, as one environment
//! variable or file holds them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Error;
use crate::keys::{Key, check_duplicates};
use crate::secret::{Secret, SecretError};

/// Parses every entry of `config` into a key, in order. An entry that cannot be used is
/// named by its position, with what it looks like (never its key material); a key given twice
/// is an error too.
pub(crate) fn parse(config: &str) -> Result<Vec<Key>, Error> {
    let entries: Vec<&str> = config
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .collect();
    let count = entries.len();
    let mut keys = Vec::with_capacity(count);
    for (i, entry) in entries.iter().enumerate() {
        let key = parse_entry(entry).map_err(|error| Error::ConfigEntry {
            position: i + 1,
            count,
            found: describe(entry),
            error: Box::new(error),
        })?;
        keys.push(key);
    }
    check_duplicates(&keys)?;
    Ok(keys)
}

/// One entry: a key, optionally `@` and an RFC 3339 expiry.
fn parse_entry(entry: &str) -> Result<Key, Error> {
    let (key, expires_at) = match entry.split_once('@') {
        None => (entry, None),
        Some((key, expiry)) => {
            let at =
                OffsetDateTime::parse(expiry, &Rfc3339).map_err(|_| SecretError::InvalidExpiry)?;
            (key, Some(at))
        }
    };
    #[cfg(feature = "ed25519")]
    if key.starts_with(crate::asymmetric::PUBLIC_KEY_PREFIX) {
        return Ok(Key::public_key(key.parse()?, expires_at));
    }
    #[cfg(not(feature = "ed25519"))]
    if key.starts_with("whpk_") {
        return Err(SecretError::WrongKind {
            found: "`whpk_` public key, which needs this crate's `ed25519` feature",
        }
        .into());
    }
    let secret: Secret = key.parse()?;
    Ok(Key::secret(&secret, expires_at))
}

/// What an entry looks like, without its key: the prefix, how many characters follow, the first
/// character that cannot belong to a key (a quote, `;`, the URL-safe `-` or `_`, anything not
/// ASCII), and whether an expiry follows `@` (its text is not shown: a key pasted after `@` by
/// mistake must not appear in a log).
fn describe(entry: &str) -> String {
    let quotes: &[char] = &['"', '\'', '`'];
    let unquoted = entry.trim_matches(quotes);
    let quoted = unquoted.len() != entry.len();
    let (key, expiry) = match unquoted.split_once('@') {
        Some((key, expiry)) => (key, Some(expiry)),
        None => (unquoted, None),
    };
    let prefix = ["whsec_", "whpk_", "whsk_"]
        .into_iter()
        .find(|p| key.starts_with(p));
    let rest = key.get(prefix.map_or(0, str::len)..).unwrap_or(key);
    let mut out = match prefix {
        Some(p) => format!("`{p}` and {} characters", rest.chars().count()),
        None => format!("{} characters, no `whsec_` prefix", rest.chars().count()),
    };
    let odd = rest.chars().find_map(|c| match c {
        '"' | '\'' | '`' => Some("with a quote: remove the quotes around it"),
        ';' | '|' => Some("with a `;` or `|`: separate entries with spaces or commas"),
        '-' | '_' => Some("with `-` or `_`: URL-safe base64, where keys use `+` and `/`"),
        c if !c.is_ascii() => Some("with a character that is not ASCII"),
        c if !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=') => {
            Some("with a character that is not base64")
        }
        _ => None,
    });
    if quoted {
        out.push_str(", in quotes: remove the quotes around it");
    } else if let Some(odd) = odd {
        out.push_str(", ");
        out.push_str(odd);
    }
    if let Some(expiry) = expiry {
        out.push_str(&format!(
            ", then `@` and {} characters",
            expiry.chars().count()
        ));
    }
    out
}

/// An instant as RFC 3339 text to the second, for messages.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| format!("{} (Unix time)", at.unix_timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const B: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn entry_error(config: &str) -> (usize, usize, String, Error) {
        match parse(config) {
            Err(Error::ConfigEntry {
                position,
                count,
                found,
                error,
            }) => (position, count, found, *error),
            other => panic!("{config:?}: {other:?}"),
        }
    }

    #[test]
    fn entries_and_expiries() {
        let keys = parse(&format!(" {A},\n{B}@2026-11-27T01:00:00Z ")).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].expires_at, None);
        assert_eq!(
            keys[1].expires_at.map(|t| t.unix_timestamp()),
            Some(1_795_741_200)
        );
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_entry_and_what_it_looks_like() {
        // The second of two entries is not base64.
        let (position, count, found, error) =
            entry_error(&format!("{A} whsec_not*base64*at*all*here*abcdef"));
        assert_eq!((position, count), (2, 2));
        assert_eq!(error, Error::Secret(SecretError::InvalidBase64));
        assert_eq!(
            found,
            "`whsec_` and 29 characters, with a character that is not base64"
        );

        // A quoted value.
        let (position, _, found, _) = entry_error(&format!("\"{A}\""));
        assert_eq!(position, 1);
        assert_eq!(
            found,
            "`whsec_` and 32 characters, in quotes: remove the quotes around it"
        );

        // A `;` separator.
        let (_, count, found, _) = entry_error(&format!("{A};{B}"));
        assert_eq!(count, 1);
        assert!(
            found.contains("`;`") && found.contains("spaces or commas"),
            "{found}"
        );

        // URL-safe base64.
        let (_, _, found, _) = entry_error("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-_Sw");
        assert!(found.contains("URL-safe"), "{found}");

        // A placeholder.
        let (_, _, found, error) = entry_error("changeme");
        assert_eq!(error, Error::Secret(SecretError::TooShort { len: 6 }));
        assert_eq!(found, "8 characters, no `whsec_` prefix");

        // A bad expiry: its text is not shown (a key pasted there must not be).
        let (_, _, found, error) = entry_error(&format!("{A}@tomorrow"));
        assert_eq!(error, Error::Secret(SecretError::InvalidExpiry));
        assert_eq!(
            found,
            "`whsec_` and 32 characters, then `@` and 8 characters"
        );
    }

    #[test]
    fn no_key_material_in_any_message() {
        for config in [
            format!("{A} whsec_not*base64*at*all*here*abcdef"),
            format!("\"{A}\""),
            format!("{A};{B}"),
            format!("{A}@tomorrow"),
            format!("{A}@{B}"),
            format!("{A} {A}"),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-_Sw".to_owned(),
        ] {
            let text = parse(&config).unwrap_err().to_string();
            for secret in [A, B] {
                let body = &secret[6..];
                for window in body.as_bytes().windows(8) {
                    let window = core::str::from_utf8(window).unwrap();
                    assert!(!text.contains(window), "{text:?} shows {window:?}");
                }
            }
        }
    }

    #[test]
    fn a_duplicate_is_reported() {
        let err = parse(&format!("{A} {B} {A}@2026-11-27T01:00:00Z")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::DuplicateKey {
                    position: 3,
                    first: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        // The same key without and with `whsec_` is the same key.
        let err = parse(&format!("{A} {}", &A[6..])).unwrap_err();
        assert!(matches!(
            err,
            Error::DuplicateKey {
                position: 2,
                first: 1,
                ..
            }
        ));
    }
}
