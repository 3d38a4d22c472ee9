//! What the idempotency middlewares tell a handler about the delivery it runs for.

use time::OffsetDateTime;

/// The verified delivery a handler runs for, put in the request's extensions by the
/// idempotency middlewares (axum: `Extension<Delivery>`, actix-web: `web::ReqData<Delivery>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    id: String,
    timestamp: OffsetDateTime,
    #[cfg(feature = "serde")]
    event_type: Option<String>,
}

impl Delivery {
    #[cfg_attr(not(feature = "serde"), allow(unused_variables))]
    #[cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]
    pub(crate) fn new(id: String, timestamp: OffsetDateTime, body: &[u8]) -> Self {
        Self {
            id,
            timestamp,
            #[cfg(feature = "serde")]
            event_type: crate::event::event_type(body),
        }
    }

    /// The verified `webhook-id`: the idempotency key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `webhook-timestamp` of this attempt.
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// The body's top-level JSON `type` (see [`event_type`](crate::event_type)), if it has one.
    #[cfg(feature = "serde")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn event_type(&self) -> Option<&str> {
        self.event_type.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_holds_its_id_and_timestamp() {
        let ts = OffsetDateTime::from_unix_timestamp(1_795_690_800).unwrap();
        let d = Delivery::new("msg_1".into(), ts, br#"{"type":"loan.active"}"#);
        assert_eq!(d.id(), "msg_1");
        assert_eq!(d.timestamp(), ts);
        #[cfg(feature = "serde")]
        assert_eq!(d.event_type(), Some("loan.active"));
    }
}
