//! Plausible sample events of the sender we serve first (Dinie, an embedded-credit API), as
//! `send` and `check` post them: `{"type": "...", "timestamp": "<RFC 3339>", "data": {...}}`.

use serde_json::{Value, json};
use standard_webhooks::EventPattern;
use standard_webhooks::time::OffsetDateTime;

use crate::verify::rfc3339;
use crate::{Failure, random};

/// Every event type the sender delivers.
pub const TYPES: [&str; 16] = [
    "customer.created",
    "customer.under_review",
    "customer.kyc_updated",
    "customer.active",
    "credit_offer.available",
    "credit_offer.expired",
    "loan.created",
    "loan.contract_generated",
    "loan.awaiting_signatures",
    "loan.signed",
    "loan.disbursing",
    "loan.active",
    "loan.payment_received",
    "loan.finished",
    "loan.cancelled",
    "loan.error",
];

/// The types matching `patterns` (`customer.active`, `loan.*`, `*`), in the order of [`TYPES`];
/// every type when there is no pattern. A pattern that matches no known type is an error
/// naming it, unless it is an exact type (a receiver may be tested with a new type).
pub fn select(patterns: &[String]) -> Result<Vec<String>, Failure> {
    if patterns.is_empty() {
        return Ok(TYPES.iter().map(|t| (*t).to_owned()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for text in patterns {
        let pattern: EventPattern = text
            .parse()
            .map_err(|e| Failure::new(format!("--type '{text}': {e}")))?;
        let matched: Vec<&str> = TYPES
            .iter()
            .copied()
            .filter(|t| pattern.matches(t))
            .collect();
        if matched.is_empty() {
            if text.contains('*') {
                return Err(Failure::new(format!(
                    "--type '{text}' matches none of the sender's types ({}, …)",
                    TYPES.get(..3).unwrap_or_default().join(", ")
                )));
            }
            out.push(text.clone());
        }
        for t in matched {
            if !out.iter().any(|o| o == t) {
                out.push(t.to_owned());
            }
        }
    }
    Ok(out)
}

/// Ids for one event's resources, so that its data hangs together.
struct Ids {
    customer: String,
    offer: String,
    loan: String,
}

/// A plausible `data` object for `event_type`.
pub fn data(event_type: &str, now: OffsetDateTime) -> Result<Value, Failure> {
    let ids = Ids {
        customer: random::id("cus_", 14)?,
        offer: random::id("co_", 14)?,
        loan: random::id("ln_", 14)?,
    };
    let later = |days: i64| rfc3339(now + standard_webhooks::time::Duration::days(days));
    let (resource, action) = event_type.split_once('.').unwrap_or((event_type, ""));
    let customer = || {
        json!({
            "customer_id": ids.customer,
            "external_id": "partner-user-48213",
            "status": action,
        })
    };
    let loan = |extra: Value| {
        let mut loan = json!({
            "loan_id": ids.loan,
            "customer_id": ids.customer,
            "offer_id": ids.offer,
            "status": action,
            "principal": "12000.00",
            "currency": "BRL",
            "installments": 12,
        });
        if let (Some(loan), Value::Object(extra)) = (loan.as_object_mut(), extra) {
            loan.extend(extra);
        }
        loan
    };
    Ok(match (resource, action) {
        ("customer", "kyc_updated") => json!({
            "customer_id": ids.customer,
            "external_id": "partner-user-48213",
            "kyc": {"status": "approved", "checks": ["identity", "address", "income"]},
        }),
        ("customer", _) => customer(),
        ("credit_offer", "available") => json!({
            "offer_id": ids.offer,
            "customer_id": ids.customer,
            "limit": "15000.00",
            "currency": "BRL",
            "monthly_interest_rate": "0.0249",
            "max_installments": 18,
            "expires_at": later(7),
        }),
        ("credit_offer", _) => json!({
            "offer_id": ids.offer,
            "customer_id": ids.customer,
            "expired_at": rfc3339(now),
        }),
        ("loan", "contract_generated") => loan(json!({
            "contract": {"id": random::id("ct_", 14)?, "document_url": "https://files.example.com/contracts/draft.pdf"},
        })),
        ("loan", "awaiting_signatures") => loan(json!({
            "signatures": [{"signer": "borrower", "signed": false}, {"signer": "lender", "signed": false}],
        })),
        ("loan", "disbursing" | "active") => loan(json!({
            "disbursement": {"amount": "12000.00", "method": "pix", "expected_at": later(1)},
        })),
        ("loan", "payment_received") => loan(json!({
            "payment": {
                "installment": 3,
                "amount": "1187.42",
                "paid_at": rfc3339(now),
                "method": "boleto",
            },
        })),
        ("loan", "cancelled") => loan(json!({"reason": "customer_request"})),
        ("loan", "error") => loan(json!({
            "error": {"code": "disbursement_failed", "message": "the destination account was closed"},
        })),
        ("loan", _) => loan(json!({})),
        _ => json!({"id": random::id("obj_", 14)?}),
    })
}

/// The JSON body of an event, with `type`, `timestamp` and `data` in the sender's order.
pub fn body(event_type: &str, timestamp: OffsetDateTime, data: &Value) -> Vec<u8> {
    format!(
        r#"{{"type":{},"timestamp":{},"data":{}}}"#,
        Value::from(event_type),
        Value::from(rfc3339(timestamp)),
        data
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_plausible_data() {
        let now = OffsetDateTime::from_unix_timestamp(1_795_780_800).unwrap();
        for t in TYPES {
            let data = data(t, now).unwrap();
            let body: Value = serde_json::from_slice(&body(t, now, &data)).unwrap();
            assert_eq!(body["type"], t);
            assert_eq!(body["timestamp"], "2026-11-27T12:00:00Z");
            assert!(
                body["data"].as_object().is_some_and(|d| !d.is_empty()),
                "{t}"
            );
        }
    }

    #[test]
    fn patterns_select_types() {
        assert_eq!(select(&[]).unwrap().len(), 16);
        assert_eq!(select(&["loan.*".into()]).unwrap().len(), 10);
        assert_eq!(
            select(&["customer.active".into(), "credit_offer.*".into()]).unwrap(),
            [
                "customer.active",
                "credit_offer.available",
                "credit_offer.expired"
            ]
        );
        assert_eq!(select(&["invoice.paid".into()]).unwrap(), ["invoice.paid"]);
        assert!(select(&["invoice.*".into()]).is_err());
    }
}
