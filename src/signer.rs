//! Producing `webhook-signature` values, for senders and for receivers' own tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac as _;

use crate::error::Error;
use crate::headers::{HeaderSource, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};
use crate::secret::{HmacSha256, Secret};

/// Signs messages under one or several keys.
///
/// With several keys (a sender during a rotation) the signature holds one entry per key,
/// space-separated, in the order the keys were added: `v1` for a secret, `v1a` for an Ed25519
/// signing key (feature `ed25519`).
///
/// ```
/// use standard_webhooks::{Secret, Signer};
///
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let signature = Signer::new(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
/// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// # Ok::<(), standard_webhooks::Error>(())
/// ```
#[derive(Clone)]
pub struct Signer {
    keys: Vec<SignKey>,
}

#[derive(Clone)]
enum SignKey {
    Hmac(HmacSha256),
    #[cfg(feature = "ed25519")]
    Ed25519(crate::asymmetric::SigningKey),
}

impl core::fmt::Debug for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signer")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Signer {
    /// A signer with one secret.
    pub fn new(secret: Secret) -> Self {
        Self {
            keys: vec![SignKey::Hmac(secret.hmac())],
        }
    }

    /// A signer with one Ed25519 signing key: it produces `v1a` entries.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn with_signing_key(key: crate::asymmetric::SigningKey) -> Self {
        Self {
            keys: vec![SignKey::Ed25519(key)],
        }
    }

    /// Adds an Ed25519 signing key: the signature gets one more (`v1a`) entry.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn signing_key(mut self, key: crate::asymmetric::SigningKey) -> Self {
        self.keys.push(SignKey::Ed25519(key));
        self
    }

    /// A signer with every secret of `secrets`, in order. Fails with [`Error::NoKeys`] when
    /// there is none.
    pub fn from_secrets(secrets: impl IntoIterator<Item = Secret>) -> Result<Self, Error> {
        let keys: Vec<_> = secrets
            .into_iter()
            .map(|s| SignKey::Hmac(s.hmac()))
            .collect();
        if keys.is_empty() {
            return Err(Error::NoKeys);
        }
        Ok(Self { keys })
    }

    /// Adds a secret: the signature gets one more entry.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.keys.push(SignKey::Hmac(secret.hmac()));
        self
    }

    /// The `webhook-signature` value for `(id, timestamp, body)`: one entry per key
    /// (`v1,BASE64` or `v1a,BASE64`), separated by spaces.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let mut out = String::with_capacity(self.keys.len() * 96);
        for key in &self.keys {
            if !out.is_empty() {
                out.push(' ');
            }
            match key {
                SignKey::Hmac(mac) => {
                    let mut mac = mac.clone();
                    mac.update(id.as_bytes());
                    mac.update(b".");
                    mac.update(ts.as_bytes());
                    mac.update(b".");
                    mac.update(body);
                    out.push_str("v1,");
                    STANDARD.encode_string(mac.finalize().into_bytes(), &mut out);
                }
                #[cfg(feature = "ed25519")]
                SignKey::Ed25519(key) => {
                    let sig = key.sign(&[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                    out.push_str("v1a,");
                    STANDARD.encode_string(sig, &mut out);
                }
            }
        }
        out
    }

    /// The three headers of a delivery of `body`, signed.
    pub fn headers(&self, id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
        SignedHeaders {
            id: id.to_owned(),
            timestamp: timestamp.to_string(),
            signature: self.sign(id, timestamp, body),
        }
    }
}

/// The `webhook-id`, `webhook-timestamp` and `webhook-signature` values of one signed delivery.
///
/// It is a [`HeaderSource`] itself, iterates as `(name, value)` pairs for any HTTP client, and
/// converts into an [`http::HeaderMap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// The `webhook-id` value.
    pub id: String,
    /// The `webhook-timestamp` value.
    pub timestamp: String,
    /// The `webhook-signature` value.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            (WEBHOOK_ID, self.id.as_str()),
            (WEBHOOK_TIMESTAMP, self.timestamp.as_str()),
            (WEBHOOK_SIGNATURE, self.signature.as_str()),
        ]
        .into_iter()
    }
}

impl HeaderSource for SignedHeaders {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
    }

    fn all_headers(&self) -> Option<impl Iterator<Item = (&str, &[u8])>> {
        Some(self.iter().map(|(n, v)| (n, v.as_bytes())))
    }
}

impl TryFrom<&SignedHeaders> for http::HeaderMap {
    type Error = http::header::InvalidHeaderValue;

    /// Fails only if the id holds bytes that are not allowed in a header value.
    fn try_from(h: &SignedHeaders) -> Result<Self, Self::Error> {
        let mut map = http::HeaderMap::with_capacity(3);
        for (name, value) in h.iter() {
            map.insert(name, http::HeaderValue::from_str(value)?);
        }
        Ok(map)
    }
}
