//! What the integrations log (feature `tracing`): one event per rejected delivery, with its
//! reason and figures, at WARN (a 4xx: the sender's or an attacker's doing) or ERROR (a 5xx:
//! this service's configuration or its key store); one event per accepted delivery at DEBUG,
//! with the fingerprint of the key that verified it.
//!
//! Values an attacker controls are never logged raw: a rejected delivery's id and header values
//! are not logged at all, and the request's path is escaped and truncated. Without the feature,
//! these functions are empty and cost nothing.

use crate::rejection::Rejection;
use crate::verifier::Message;

/// Logs a refused delivery; `path` is the request's path (escaped and truncated in the log).
#[cfg(feature = "tracing")]
pub(crate) fn log_rejected(rejection: &Rejection, path: &str) {
    use crate::error::Error;
    let mut skew_secs = None;
    let mut tolerance_secs = None;
    let mut entries = None;
    let mut keys = None;
    let mut header = None;
    match rejection.error() {
        Some(
            Error::TimestampTooOld {
                skew_secs: skew,
                tolerance_secs: tolerance,
            }
            | Error::TimestampTooNew {
                skew_secs: skew,
                tolerance_secs: tolerance,
            },
        ) => {
            skew_secs = Some(*skew);
            tolerance_secs = Some(*tolerance);
        }
        Some(Error::NoMatchingSignature {
            header: h,
            entries: n,
            keys: k,
        }) => {
            header = Some(*h);
            entries = Some(*n as u64);
            keys = Some(*k as u64);
        }
        Some(
            Error::MissingHeader { header: h }
            | Error::ConflictingHeader { header: h }
            | Error::InvalidHeader { header: h, .. }
            | Error::InvalidTimestamp { header: h },
        ) => header = Some(*h),
        _ => {}
    }
    let status = rejection.status().as_u16();
    let reason = reason(rejection);
    let path = Shown(path);
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                target: "standard_webhooks",
                $level,
                status,
                reason,
                header,
                skew_secs,
                tolerance_secs,
                entries,
                keys,
                %path,
                "webhook delivery rejected: {rejection}"
            )
        };
    }
    if status >= 500 {
        event!(tracing::Level::ERROR);
    } else {
        event!(tracing::Level::WARN);
    }
}

/// Logs a verified delivery, sent to `endpoint` when keys are looked up per endpoint.
#[cfg(feature = "tracing")]
pub(crate) fn log_accepted(message: &Message<'_>, endpoint: Option<&str>) {
    tracing::debug!(
        target: "standard_webhooks",
        id = %Shown(message.id()),
        timestamp = message.unix_timestamp(),
        key = %message.key_fingerprint(),
        endpoint = endpoint.map(|e| tracing::field::display(Shown(e))),
        "webhook delivery verified"
    );
}

/// Logs a genuine delivery that the handler's payload extractor then refused (axum's `Json`
/// without `content-type: application/json`, a body that does not fit the handler's type):
/// its status and which extractor refused it (its type with actix-web; with axum, the type of
/// its rejection, e.g. `JsonRejection`), never the rejection's message (it may quote the body).
/// `path` is the request's, when the framework still has it.
#[cfg(all(feature = "tracing", any(feature = "axum", feature = "actix-web")))]
pub(crate) fn log_payload_rejected(status: u16, extractor: &'static str, path: Option<&str>) {
    let path = path.map(|p| tracing::field::display(Shown(p)));
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                target: "standard_webhooks",
                $level,
                status,
                reason = "payload_rejected",
                extractor,
                path,
                "webhook delivery rejected by the payload extractor, after it was verified"
            )
        };
    }
    if status >= 500 {
        event!(tracing::Level::ERROR);
    } else {
        event!(tracing::Level::WARN);
    }
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn log_rejected(_: &Rejection, _: &str) {}

#[cfg(all(not(feature = "tracing"), any(feature = "axum", feature = "actix-web")))]
#[inline(always)]
pub(crate) fn log_payload_rejected(_: u16, _: &'static str, _: Option<&str>) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn log_accepted(_: &Message<'_>, _: Option<&str>) {}

/// A short machine-readable name of a rejection, for log filters and dashboards.
#[cfg(feature = "tracing")]
pub(crate) fn reason(rejection: &Rejection) -> &'static str {
    use crate::error::Error;
    match rejection {
        Rejection::Malformed(Error::MissingHeader { .. }) => "missing_header",
        Rejection::Malformed(Error::ConflictingHeader { .. }) => "conflicting_header",
        Rejection::Malformed(Error::InvalidTimestamp { .. }) => "invalid_timestamp",
        Rejection::Malformed(_) => "invalid_header",
        Rejection::Unauthorized(Error::TimestampTooOld { .. }) => "timestamp_too_old",
        Rejection::Unauthorized(Error::TimestampTooNew { .. }) => "timestamp_too_new",
        Rejection::Unauthorized(_) => "no_matching_signature",
        Rejection::PayloadTooLarge => "body_too_large",
        Rejection::BodyUnreadable(_) => "body_unreadable",
        Rejection::MissingVerifier => "no_verifier",
        Rejection::NoKeyInForce => "no_key_in_force",
        Rejection::UnknownEndpoint(_) => "unknown_endpoint",
        Rejection::KeysUnavailable(_) => "keys_unavailable",
    }
}

/// Text from a request, as a log shows it: control and non-ASCII characters escaped, at most
/// [`Shown::MAX`] characters, then `…`.
#[cfg(feature = "tracing")]
pub(crate) struct Shown<'a>(pub(crate) &'a str);

#[cfg(feature = "tracing")]
impl Shown<'_> {
    const MAX: usize = 128;
}

#[cfg(feature = "tracing")]
impl core::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write as _;
        for c in self.0.chars().take(Self::MAX) {
            if c.is_ascii_graphic() || c == ' ' {
                f.write_char(c)?;
            } else {
                write!(f, "{}", c.escape_default())?;
            }
        }
        if self.0.chars().nth(Self::MAX).is_some() {
            f.write_char('…')?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use super::*;

    #[test]
    fn shown_text_is_escaped_and_truncated() {
        assert_eq!(Shown("msg_1").to_string(), "msg_1");
        assert_eq!(
            Shown("a\r\nb: 1\u{1b}[31m").to_string(),
            "a\\r\\nb: 1\\u{1b}[31m"
        );
        assert_eq!(Shown("é").to_string(), "\\u{e9}");
        let long = "x".repeat(1000);
        let shown = Shown(&long).to_string();
        assert_eq!(shown.chars().count(), Shown::MAX + 1);
        assert!(shown.ends_with('…'));
    }
}
