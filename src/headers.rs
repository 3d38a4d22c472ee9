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

    /// Every header as `(name, value)`, in the order received, if this source can list them;
    /// by default `None`.
    ///
    /// When a source lists its headers, the verifier finds the ones it needs in a single pass
    /// instead of one [`header_values`](Self::header_values) lookup per name, which is faster
    /// for any hashed map (each lookup hashes the name) and for lists alike. Names may be in
    /// any ASCII case.
    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        None::<core::iter::Empty<(&str, &[u8])>>
    }
}

impl<T: HeaderSource + ?Sized> HeaderSource for &T {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        (**self).header_values(name)
    }

    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        (**self).all_headers()
    }
}

impl HeaderSource for http::HeaderMap {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        match known_index(name).and_then(|i| PREPARED.get(i)) {
            Some(known) => self.get_all(known),
            None => self.get_all(name),
        }
        .into_iter()
        .map(http::HeaderValue::as_bytes)
    }

    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        Some(self.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
    }
}

/// The six names the verifier asks a [`HeaderSource`] for, in the order of [`known_index`].
pub(crate) const NAMES: [&str; 6] = [
    WEBHOOK_ID,
    WEBHOOK_TIMESTAMP,
    WEBHOOK_SIGNATURE,
    SVIX_ID,
    SVIX_TIMESTAMP,
    SVIX_SIGNATURE,
];

/// Which of [`NAMES`] `name` is, so that a header map can keep them prepared (looking up by
/// `&str` parses and validates the name on every call).
pub(crate) fn known_index(name: &str) -> Option<usize> {
    NAMES.iter().position(|known| *known == name)
}

/// [`NAMES`], prepared as [`http::HeaderName`]s.
static PREPARED: [http::HeaderName; 6] = [
    http::HeaderName::from_static(WEBHOOK_ID),
    http::HeaderName::from_static(WEBHOOK_TIMESTAMP),
    http::HeaderName::from_static(WEBHOOK_SIGNATURE),
    http::HeaderName::from_static(SVIX_ID),
    http::HeaderName::from_static(SVIX_TIMESTAMP),
    http::HeaderName::from_static(SVIX_SIGNATURE),
];

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderSource for [(K, V)] {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.iter()
            .filter(move |(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        Some(self.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>, const N: usize> HeaderSource for [(K, V); N] {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.as_slice().header_values(name)
    }

    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        self.as_slice().all_headers()
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderSource for Vec<(K, V)> {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.as_slice().header_values(name)
    }

    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        self.as_slice().all_headers()
    }
}

/// The names of one header family.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Family {
    pub(crate) id: &'static str,
    pub(crate) timestamp: &'static str,
    pub(crate) signature: &'static str,
}

pub(crate) static STANDARD: Family = Family {
    id: WEBHOOK_ID,
    timestamp: WEBHOOK_TIMESTAMP,
    signature: WEBHOOK_SIGNATURE,
};

pub(crate) static SVIX: Family = Family {
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

/// The three headers of one delivery, as received: the id and timestamp values, and the first
/// non-empty value of the signature header (its entries are parsed later by
/// [`Candidates`](crate::signature::Candidates)), with whether further values may follow it
/// ([`signature_values`] lists them all then).
#[derive(Debug)]
pub(crate) struct WebhookHeaders<'h> {
    pub(crate) family: &'static Family,
    pub(crate) id: &'h str,
    pub(crate) timestamp: &'h [u8],
    pub(crate) signature: &'h [u8],
    pub(crate) more_signatures: bool,
}

impl<'h> WebhookHeaders<'h> {
    /// Picks the header family and reads the id and timestamp.
    ///
    /// `webhook-*` is used whenever any of its headers is present; the `svix-*` set only when no
    /// `webhook-*` header is. The two are never mixed.
    ///
    /// A source that lists its headers ([`HeaderSource::all_headers`]) is read in one pass.
    /// Otherwise each header is looked up once on the usual path (a `webhook-id` is present):
    /// the id, the timestamp, then the signature.
    pub(crate) fn read<H: HeaderSource + ?Sized>(headers: &'h H) -> Result<Self, Error> {
        let (family, id, timestamp, signature) = match headers.all_headers() {
            Some(all) => {
                let mut found = Found::EMPTY;
                found.scan(all);
                let (family, [id, timestamp, signature]) = found.family();
                let id = id.single(family.id)?;
                let timestamp = timestamp.single(family.timestamp)?;
                (family, id, timestamp, *signature)
            }
            None => {
                let (family, id) = match single(headers, STANDARD.id) {
                    // No `webhook-id`: the family is `svix-*` only if no `webhook-*` header is
                    // present and a `svix-*` one is; either way the id of that family is
                    // required.
                    Err(Error::MissingHeader { .. }) => {
                        let family = if !STANDARD.any_present(headers) && SVIX.any_present(headers)
                        {
                            &SVIX
                        } else {
                            &STANDARD
                        };
                        (family, single(headers, family.id)?)
                    }
                    // `webhook-id` is present (possibly conflicting): the `webhook-*` family.
                    id => (&STANDARD, id?),
                };
                let timestamp = single(headers, family.timestamp)?;
                let mut signatures = signature_values(headers, family.signature);
                let signature = Slot {
                    first: signatures.next(),
                    // Any further value, empty or not, sends the caller back to read them all.
                    repeated: signatures.next().is_some(),
                    conflict: false,
                };
                (family, id, timestamp, signature)
            }
        };
        // The signature header is read entry by entry later; it must be there at all.
        let Some(first) = signature.first else {
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
            signature: first,
            more_signatures: signature.repeated,
        })
    }
}

/// The values of a signature header from its first non-empty one on.
pub(crate) fn signature_values<'h, H: HeaderSource + ?Sized>(
    headers: &'h H,
    name: &'static str,
) -> impl Iterator<Item = &'h [u8]> {
    headers.header_values(name).skip_while(|v| v.is_empty())
}

/// What one pass over all the headers found of each of the six names.
struct Found<'h> {
    /// `webhook-id`, `webhook-timestamp` and `webhook-signature`, then the `svix-*` three.
    slots: [[Slot<'h>; 3]; 2],
}

/// The non-empty values of one header name, as far as the verifier needs them.
#[derive(Debug, Clone, Copy)]
struct Slot<'h> {
    first: Option<&'h [u8]>,
    /// A second non-empty value was seen.
    repeated: bool,
    /// A second non-empty value differed from the first.
    conflict: bool,
}

impl<'h> Slot<'h> {
    const EMPTY: Self = Self {
        first: None,
        repeated: false,
        conflict: false,
    };

    fn push(&mut self, value: &'h [u8]) {
        if value.is_empty() {
            return;
        }
        match self.first {
            None => self.first = Some(value),
            Some(first) => {
                self.repeated = true;
                self.conflict |= first != value;
            }
        }
    }

    /// The one value of a header that must not be repeated with differing values.
    #[inline]
    fn single(&self, name: &'static str) -> Result<&'h [u8], Error> {
        if self.conflict {
            return Err(Error::ConflictingHeader { header: name });
        }
        // `ok_or_else`: an `Error` has drop glue, so one built eagerly costs a drop on success
        // (clippy counts only the cost of building it).
        #[allow(clippy::unnecessary_lazy_evaluations)]
        self.first
            .ok_or_else(|| Error::MissingHeader { header: name })
    }
}

impl<'h> Found<'h> {
    const EMPTY: Self = Self {
        slots: [[Slot::EMPTY; 3]; 2],
    };

    fn scan(&mut self, all: impl Iterator<Item = (&'h str, &'h [u8])>) {
        for (name, value) in all {
            let slot = slot_of(name)
                .and_then(|(family, i)| self.slots.get_mut(family).and_then(|f| f.get_mut(i)));
            if let Some(slot) = slot {
                slot.push(value);
            }
        }
    }

    /// The family to use (the same rule as the lookups: `webhook-*` if any of its headers is
    /// present, else `svix-*` if any of its headers is) and its three slots.
    fn family(&self) -> (&'static Family, &[Slot<'h>; 3]) {
        let [webhook, svix] = &self.slots;
        let present = |slots: &[Slot<'_>; 3]| slots.iter().any(|s| s.first.is_some());
        if !present(webhook) && present(svix) {
            (&SVIX, svix)
        } else {
            (&STANDARD, webhook)
        }
    }
}

/// Which of the six names `name` is, in any ASCII case: its family (0 for `webhook-*`, 1 for
/// `svix-*`) and its index in a family's slots.
///
/// The length and one distinguishing byte pick the only name it can be; one comparison
/// decides. This runs for every header of every request, so it avoids lowercasing.
#[inline(always)]
fn slot_of(name: &str) -> Option<(usize, usize)> {
    let bytes = name.as_bytes();
    let byte = |i: usize| bytes.get(i).map_or(0, |b| b | 0x20);
    let (slot, known) = match bytes.len() {
        10 => ((0, 0), eq_lowercase_name(bytes, b"webhook-id")),
        17 if byte(8) == b't' => ((0, 1), eq_lowercase_name(bytes, b"webhook-timestamp")),
        17 => ((0, 2), eq_lowercase_name(bytes, b"webhook-signature")),
        7 => ((1, 0), eq_lowercase_name(bytes, b"svix-id")),
        14 if byte(5) == b't' => ((1, 1), eq_lowercase_name(bytes, b"svix-timestamp")),
        14 => ((1, 2), eq_lowercase_name(bytes, b"svix-signature")),
        _ => return None,
    };
    known.then_some(slot)
}

/// Whether `name` equals `known` (lowercase ASCII) without regard to ASCII case: a byte
/// matches a letter of `known` in either case, and anything else only exactly. The length is
/// a constant, so the comparison unrolls.
#[inline(always)]
fn eq_lowercase_name<const N: usize>(name: &[u8], known: &[u8; N]) -> bool {
    let Ok(name) = <&[u8; N]>::try_from(name) else {
        return false;
    };
    let mut diff = 0u8;
    for (&b, &k) in name.iter().zip(known) {
        let case = if k.is_ascii_lowercase() { 0x20 } else { 0 };
        diff |= (b | case) ^ k;
    }
    diff == 0
}

/// The one non-empty value of a header that must not be repeated with differing values.
fn single<'h, H: HeaderSource + ?Sized>(
    headers: &'h H,
    name: &'static str,
) -> Result<&'h [u8], Error> {
    // The same rule as the one-pass scan: a `Slot` of the name's values.
    let mut slot = Slot::EMPTY;
    for value in headers.header_values(name) {
        slot.push(value);
    }
    slot.single(name)
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
    fn prepared_names_follow_names() {
        for (i, name) in NAMES.iter().enumerate() {
            assert_eq!(known_index(name), Some(i));
            assert_eq!(PREPARED[i].as_str(), *name);
        }
        assert_eq!(known_index("webhook-other"), None);
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
        assert_eq!(*WebhookHeaders::read(&svix).unwrap().family, SVIX);
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

    /// A source that can only look names up, to exercise the lookup path.
    struct LookupOnly<'a>(&'a [(String, String)]);

    impl HeaderSource for LookupOnly<'_> {
        fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
            self.0.header_values(name)
        }
    }

    /// What a read decides: the family (its id header), id, timestamp and every signature value
    /// the verifier will parse.
    type Decided = (&'static str, String, Vec<u8>, Vec<Vec<u8>>);

    fn decided<H: HeaderSource + ?Sized>(h: &H) -> Result<Decided, Error> {
        let read = WebhookHeaders::read(h)?;
        let signatures = if read.more_signatures {
            signature_values(h, read.family.signature)
                .map(<[u8]>::to_vec)
                .collect()
        } else {
            vec![read.signature.to_vec()]
        };
        // Empty values carry no entry: compare what is left.
        let signatures = signatures.into_iter().filter(|v| !v.is_empty()).collect();
        Ok((
            read.family.id,
            read.id.to_owned(),
            read.timestamp.to_vec(),
            signatures,
        ))
    }

    #[test]
    fn one_pass_and_lookups_decide_alike() {
        let names = [
            "webhook-id",
            "Webhook-Id",
            "webhook-timestamp",
            "WEBHOOK-TIMESTAMP",
            "webhook-signature",
            "Webhook-Signature",
            "svix-id",
            "SVIX-ID",
            "svix-timestamp",
            "svix-signature",
            "Svix-Signature",
            "user-agent",
            "content-length",
            "webhook_id",
            "webhook-signaturE",
            "webhook-sigNature",
        ];
        let values = ["", "a", "b", "v1,x", "1"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut decided_ok = 0;
        for _ in 0..20_000 {
            let len = next(9);
            let pairs: Vec<(String, String)> = (0..len)
                .map(|_| {
                    (
                        names[next(names.len())].to_owned(),
                        values[next(values.len())].to_owned(),
                    )
                })
                .collect();
            let one_pass = decided(&pairs);
            assert_eq!(one_pass, decided(&LookupOnly(&pairs)), "{pairs:?}");
            decided_ok += usize::from(one_pass.is_ok());
        }
        // The generator reaches accepted header sets too, not only errors.
        assert!(decided_ok > 100, "{decided_ok}");
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
