//! The event envelope of a delivery's JSON body: `{"type", "timestamp", "data"}`.

use core::fmt;
use std::borrow::Cow;

use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A delivery's body as Standard Webhooks senders shape it.
///
/// Parse the body only after it has been verified, from the exact bytes that were verified:
///
/// ```
/// use serde::Deserialize;
/// use standard_webhooks::{Event, event_type};
///
/// #[derive(Debug, Deserialize)]
/// struct Loan { loan_id: String, amount_cents: u64 }
///
/// let body = br#"{"type":"loan.disbursing","timestamp":"2026-11-26T12:00:00.5Z",
///                 "data":{"loan_id":"ln_42","amount_cents":250000}}"#;
///
/// // Just the type, to route on before choosing a data type:
/// assert_eq!(event_type(body).as_deref(), Some("loan.disbursing"));
///
/// let event: Event<Loan> = Event::from_slice(body)?;
/// assert_eq!(event.event_type, "loan.disbursing");
/// assert_eq!(event.timestamp.unix_timestamp(), 1_795_694_400);
/// assert_eq!(event.data.amount_cents, 250_000);
///
/// // serde_json::Value keeps any data:
/// let any: Event<serde_json::Value> = Event::from_slice(body)?;
/// assert_eq!(any.data["loan_id"], "ln_42");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event<T> {
    /// The event type, e.g. `customer.active`; match it with an
    /// [`EventPattern`](crate::EventPattern).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened, as an RFC 3339 date-time in the body (not the
    /// `webhook-timestamp` of the attempt).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The event's payload.
    pub data: T,
}

impl<T: serde::de::DeserializeOwned> Event<T> {
    /// Parses a verified body.
    pub fn from_slice(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

impl<T: Serialize> Event<T> {
    /// The JSON body, as a sender would send it.
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// The top-level string `type` of a JSON body, if the body is a JSON object that has one.
///
/// Other fields are skipped without being kept. `None` for a body that is not JSON, not an
/// object, or whose `type` is missing, repeated or not a string.
pub fn event_type(body: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = de.deserialize_map(TypeField).ok()?;
    de.end().ok()?;
    found
}

/// Visits a JSON object and keeps only its `type` string.
struct TypeField;

impl<'de> Visitor<'de> for TypeField {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Option<Option<String>> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "type" {
                let value = map.next_value::<serde_json::Value>()?;
                found = match found {
                    None => Some(value.as_str().map(str::to_owned)),
                    Some(_) => Some(None), // repeated: ambiguous, so none
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found.flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_round_trips_with_an_rfc3339_timestamp() {
        let body = br#"{"type":"customer.active","timestamp":"2026-11-26T12:00:00+01:00","data":{"id":"cus_1"}}"#;
        let event: Event<serde_json::Value> = Event::from_slice(body).unwrap();
        assert_eq!(event.timestamp.unix_timestamp(), 1_795_690_800);
        let again: Event<serde_json::Value> = Event::from_slice(&event.to_vec().unwrap()).unwrap();
        assert_eq!(again, event);
        let text = String::from_utf8(event.to_vec().unwrap()).unwrap();
        assert!(
            text.contains(r#""timestamp":"2026-11-26T12:00:00+01:00""#),
            "{text}"
        );
    }

    #[test]
    fn a_timestamp_that_is_not_rfc3339_is_refused() {
        let body = br#"{"type":"x.y","timestamp":1795690800,"data":null}"#;
        assert!(Event::<()>::from_slice(body).is_err());
    }

    #[test]
    fn event_type_reads_only_a_top_level_string() {
        assert_eq!(
            event_type(br#"{"data":{"type":"inner"},"type":"loan.active"}"#).as_deref(),
            Some("loan.active")
        );
        assert_eq!(event_type(br#"{"data":{"type":"inner"}}"#), None);
        assert_eq!(event_type(br#"{"type":7}"#), None);
        assert_eq!(event_type(br#"["type"]"#), None);
        assert_eq!(event_type(b"not json"), None);
        assert_eq!(event_type(b"\xff\xfe"), None);
        assert_eq!(event_type(b""), None);
        assert_eq!(event_type(br#"{"type":"a.b","type":"c.d"}"#), None);
        assert_eq!(event_type(br#"{"type":"a.b"} trailing"#), None);
        assert_eq!(
            event_type(br#"{"ty\u0070e":"escaped.key"}"#).as_deref(),
            Some("escaped.key")
        );
    }
}
