//! Looking up the `webhook-*` (or `svix-*`) headers in whatever a server hands us.

use crate::error::Error;

/// `webhook-id`: the message id, the same on every retry of one event (the idempotency key).
pub const WEBHOOK_ID: &str = "webhook-id";
/// `webhook-timestamp`: the attempt time in integer Unix seconds.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// `webhook-signature`: space-separated `VERSION,BASE64` entries.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// `svix-id`: the Svix name of `webhook-id`.
pub const SVIX_ID: &str = "svix-id";
/// `svix-timestamp`: the Svix name of `webhook-timestamp`.
pub const SVIX_TIMESTAMP: &str = "svix-timestamp";
/// `svix-signature`: the Svix name of `webhook-signature`.
pub const SVIX_SIGNATURE: &str = "svix-signature";

/// Anything that can list the values of a header by case-insensitive name.
///
/// Implemented for [`http::HeaderMap`] (axum, hyper, reqwest, lambda runtimes), for slices,
/// arrays and vectors of `(name, value)` pairs (hand-rolled servers, tests), and for
/// references to any of these. A framework with its own header map implements it in a few
/// lines:
///
/// ```
/// use standard_webhooks::HeaderSource;
///
/// struct MyHeaders(Vec<(String, Vec<u8>)>);
///
/// impl HeaderSource for MyHeaders {
///     fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
///         self.0
///             .iter()
///             .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
///             .map(|(_, v)| v.as_slice())
///     }
/// }
/// ```
pub trait HeaderSource {
    /// Every value of the header `name`, in the order received. `name` is lowercase ASCII;
    /// implementations match it without regard to ASCII case.
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]>;
}

impl<T: HeaderSource + ?Sized> HeaderSource for &T {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        (**self).header_values(name)
    }
}

impl HeaderSource for http::HeaderMap {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        // Looking up by `&str` parses and validates the name on every call; the six names the
        // verifier asks for are prepared once instead.
        match known_name(name) {
            Some(known) => self.get_all(known),
            None => self.get_all(name),
        }
        .into_iter()
        .map(http::HeaderValue::as_bytes)
    }
}

static WEBHOOK_ID_NAME: http::HeaderName = http::HeaderName::from_static(WEBHOOK_ID);
static WEBHOOK_TIMESTAMP_NAME: http::HeaderName = http::HeaderName::from_static(WEBHOOK_TIMESTAMP);
static WEBHOOK_SIGNATURE_NAME: http::HeaderName = http::HeaderName::from_static(WEBHOOK_SIGNATURE);
static SVIX_ID_NAME: http::HeaderName = http::HeaderName::from_static(SVIX_ID);
static SVIX_TIMESTAMP_NAME: http::HeaderName = http::HeaderName::from_static(SVIX_TIMESTAMP);
static SVIX_SIGNATURE_NAME: http::HeaderName = http::HeaderName::from_static(SVIX_SIGNATURE);

/// The prepared [`http::HeaderName`] of one of the six webhook header names.
fn known_name(name: &str) -> Option<&'static http::HeaderName> {
    match name {
        WEBHOOK_ID => Some(&WEBHOOK_ID_NAME),
        WEBHOOK_TIMESTAMP => Some(&WEBHOOK_TIMESTAMP_NAME),
        WEBHOOK_SIGNATURE => Some(&WEBHOOK_SIGNATURE_NAME),
        SVIX_ID => Some(&SVIX_ID_NAME),
        SVIX_TIMESTAMP => Some(&SVIX_TIMESTAMP_NAME),
        SVIX_SIGNATURE => Some(&SVIX_SIGNATURE_NAME),
        _ => None,
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderSource for [(K, V)] {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.iter()
            .filter(move |(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>, const N: usize> HeaderSource for [(K, V); N] {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.as_slice().header_values(name)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderSource for Vec<(K, V)> {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.as_slice().header_values(name)
    }
}

/// The names of one header family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Family {
    pub(crate) id: &'static str,
    pub(crate) timestamp: &'static str,
    pub(crate) signature: &'static str,
}

pub(crate) const STANDARD: Family = Family {
    id: WEBHOOK_ID,
    timestamp: WEBHOOK_TIMESTAMP,
    signature: WEBHOOK_SIGNATURE,
};

pub(crate) const SVIX: Family = Family {
    id: SVIX_ID,
    timestamp: SVIX_TIMESTAMP,
    signature: SVIX_SIGNATURE,
};

impl Family {
    fn any_present<H: HeaderSource + ?Sized>(&self, headers: &H) -> bool {
        [self.id, self.timestamp, self.signature]
            .into_iter()
            .any(|name| headers.header_values(name).any(|v| !v.is_empty()))
    }
}

/// The three headers of one delivery, as received: the id and timestamp values, and the
/// values of the signature header from its first non-empty one on (parsed later, entry by
/// entry, by [`Candidates`](crate::signature::Candidates)).
pub(crate) struct WebhookHeaders<'h, S> {
    pub(crate) family: Family,
    pub(crate) id: &'h str,
    pub(crate) timestamp: &'h [u8],
    pub(crate) signatures: S,
}

impl<S> core::fmt::Debug for WebhookHeaders<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebhookHeaders")
            .field("family", &self.family)
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl<'h> WebhookHeaders<'h, ()> {
    /// Picks the header family and reads the id and timestamp.
    ///
    /// `webhook-*` is used whenever any of its headers is present; the `svix-*` set only when no
    /// `webhook-*` header is. The two are never mixed.
    ///
    /// Each header is looked up once on the usual path (a `webhook-id` is present): the id,
    /// the timestamp, then the signature, whose values are handed on rather than looked up
    /// again.
    pub(crate) fn read<H: HeaderSource + ?Sized>(
        headers: &'h H,
    ) -> Result<WebhookHeaders<'h, impl Iterator<Item = &'h [u8]>>, Error> {
        let (family, id) = match single(headers, STANDARD.id) {
            // No `webhook-id`: the family is `svix-*` only if no `webhook-*` header is present
            // and a `svix-*` one is; either way the id of that family is required.
            Err(Error::MissingHeader { .. }) => {
                let family = if !STANDARD.any_present(headers) && SVIX.any_present(headers) {
                    SVIX
                } else {
                    STANDARD
                };
                (family, single(headers, family.id)?)
            }
            // `webhook-id` is present (possibly conflicting): the `webhook-*` family.
            id => (STANDARD, id?),
        };
        let timestamp = single(headers, family.timestamp)?;
        // The signature header is read entry by entry later; it must be there at all.
        let mut signatures = headers
            .header_values(family.signature)
            .skip_while(|v| v.is_empty());
        let Some(first) = signatures.next() else {
            return Err(Error::MissingHeader {
                header: family.signature,
            });
        };
        let id = core::str::from_utf8(id).map_err(|_| Error::InvalidHeader {
            header: family.id,
            reason: "not valid UTF-8",
        })?;
        Ok(WebhookHeaders {
            family,
            id,
            timestamp,
            signatures: core::iter::once(first).chain(signatures),
        })
    }
}

/// The one non-empty value of a header that must not be repeated with differing values.
fn single<'h, H: HeaderSource + ?Sized>(
    headers: &'h H,
    name: &'static str,
) -> Result<&'h [u8], Error> {
    let mut found: Option<&'h [u8]> = None;
    for value in headers.header_values(name).filter(|v| !v.is_empty()) {
        match found {
            None => found = Some(value),
            Some(first) if first == value => {}
            Some(_) => return Err(Error::ConflictingHeader { header: name }),
        }
    }
    found.ok_or(Error::MissingHeader { header: name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_in_pairs_and_header_map() {
        let pairs = [("Webhook-ID", "a"), ("WEBHOOK-TIMESTAMP", "1")];
        assert_eq!(
            pairs.header_values(WEBHOOK_ID).collect::<Vec<_>>(),
            [b"a".as_slice()]
        );
        let mut map = http::HeaderMap::new();
        map.append("Webhook-Signature", "v1,x".parse().unwrap());
        map.append("webhook-signature", "v1,y".parse().unwrap());
        assert_eq!(map.header_values(WEBHOOK_SIGNATURE).count(), 2);
        assert_eq!(
            <&http::HeaderMap as HeaderSource>::header_values(&&map, WEBHOOK_ID).count(),
            0
        );
    }

    #[test]
    fn empty_counts_as_missing() {
        let h = [
            ("webhook-id", ""),
            ("webhook-timestamp", "1"),
            ("webhook-signature", "v1,x"),
        ];
        assert_eq!(
            WebhookHeaders::read(&h).unwrap_err(),
            Error::MissingHeader { header: WEBHOOK_ID }
        );
        let h = [
            ("webhook-id", "a"),
            ("webhook-timestamp", "1"),
            ("webhook-signature", ""),
        ];
        assert_eq!(
            WebhookHeaders::read(&h).unwrap_err(),
            Error::MissingHeader {
                header: WEBHOOK_SIGNATURE
            }
        );
    }

    #[test]
    fn repeated_id_must_agree() {
        let same = [
            ("webhook-id", "a"),
            ("webhook-id", "a"),
            ("webhook-id", ""),
            ("webhook-timestamp", "1"),
            ("webhook-signature", "v1,x"),
        ];
        assert_eq!(WebhookHeaders::read(&same).unwrap().id, "a");
        let differ = [
            ("webhook-id", "a"),
            ("webhook-id", "b"),
            ("webhook-timestamp", "1"),
            ("webhook-signature", "v1,x"),
        ];
        assert_eq!(
            WebhookHeaders::read(&differ).unwrap_err(),
            Error::ConflictingHeader { header: WEBHOOK_ID }
        );
        let differ_ts = [
            ("webhook-id", "a"),
            ("webhook-timestamp", "1"),
            ("webhook-timestamp", "2"),
            ("webhook-signature", "v1,x"),
        ];
        assert_eq!(
            WebhookHeaders::read(&differ_ts).unwrap_err(),
            Error::ConflictingHeader {
                header: WEBHOOK_TIMESTAMP
            }
        );
    }

    #[test]
    fn svix_family_only_when_no_webhook_header() {
        let svix = [
            ("svix-id", "a"),
            ("svix-timestamp", "1"),
            ("svix-signature", "v1,x"),
        ];
        assert_eq!(WebhookHeaders::read(&svix).unwrap().family, SVIX);
        // One webhook-* header present: the webhook family is required in full, no mixing.
        let mixed = [
            ("webhook-id", "a"),
            ("svix-timestamp", "1"),
            ("svix-signature", "v1,x"),
        ];
        assert_eq!(
            WebhookHeaders::read(&mixed).unwrap_err(),
            Error::MissingHeader {
                header: WEBHOOK_TIMESTAMP
            }
        );
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            WebhookHeaders::read(&none).unwrap_err(),
            Error::MissingHeader { header: WEBHOOK_ID }
        );
    }

    #[test]
    fn non_utf8_id_is_malformed() {
        let h: [(&str, &[u8]); 3] = [
            ("webhook-id", b"\xff\xfe"),
            ("webhook-timestamp", b"1"),
            ("webhook-signature", b"v1,x"),
        ];
        assert!(matches!(
            WebhookHeaders::read(&h).unwrap_err(),
            Error::InvalidHeader {
                header: WEBHOOK_ID,
                ..
            }
        ));
    }
}
