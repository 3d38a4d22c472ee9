//! An axum 0.8 receiver whose keys come from a file that a secrets manager replaces on
//! rotation (a Kubernetes Secret volume, a file written by a secrets agent): the new secret is
//! in force within a second of the file's change, with no restart.
//!
//! ```sh
//! # The file holds the endpoint's secret; during a rotation, the new secret and the old one
//! # with the end of its grace period, one per line ('#' starts a comment line):
//! #   whsec_NEW
//! #   whsec_OLD@2026-11-27T01:00:00Z
//! # Replace it atomically: write a temporary file in the same folder, then rename it over.
//! WEBHOOK_SECRETS_FILE=/var/run/secrets/webhooks/dinie WEBHOOK_LISTEN=0.0.0.0:3000 \
//!     cargo run --features axum,reload --example key_file
//! ```
//!
//! Without `WEBHOOK_SECRETS_FILE`, the keys come from `WEBHOOK_SECRETS` (the same syntax, in a
//! variable), and are not reloaded. `GET /health/webhook-keys` answers 200 while the file's
//! keys are in force, 503 with the reason (never a key) while the file cannot be used.
//!
//! With `WEBHOOK_EXAMPLE_SELF_TEST=1` it writes a key file in a temporary folder, serves on an
//! ephemeral port of 127.0.0.1, and rotates the file under itself while sending signed
//! deliveries; it exits 0 if every answer was as expected, 1 otherwise.

#[path = "support/key_file_self_test.rs"]
mod key_file_self_test;

use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use standard_webhooks::{KeyFile, KeyFileWatcher, Verified, Verifier};

/// `POST /webhooks/dinie`: runs only for deliveries that passed verification.
async fn dinie(Verified(Json(event)): Verified<Json<serde_json::Value>>) -> StatusCode {
    let field = |name| event.get(name).and_then(|v| v.as_str()).unwrap_or("?");
    println!("{} at {}", field("type"), field("timestamp"));
    StatusCode::NO_CONTENT
}

/// `GET /health/webhook-keys`: whether the key file's keys are in force.
async fn health(watcher: Arc<Option<KeyFileWatcher>>) -> (StatusCode, String) {
    let Some(watcher) = watcher.as_ref() else {
        return (StatusCode::OK, "keys from WEBHOOK_SECRETS\n".into());
    };
    let status = watcher.status();
    match (status.error(), status.loaded_at()) {
        // The keys loaded last still serve; someone must fix the file.
        (Some(error), _) => (StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")),
        (None, Some(at)) => (StatusCode::OK, format!("keys loaded at {at}\n")),
        (None, None) => (StatusCode::OK, "keys loaded\n".into()),
    }
}

/// Where the keys come from.
pub enum Keys {
    /// A key file, watched.
    File(PathBuf),
    /// A key configuration, as is.
    Config(String),
}

impl Keys {
    fn from_env() -> Result<Self, String> {
        if let Some(path) = std::env::var_os("WEBHOOK_SECRETS_FILE") {
            return Ok(Self::File(path.into()));
        }
        std::env::var("WEBHOOK_SECRETS")
            .map(Self::Config)
            .map_err(|_| {
                "set WEBHOOK_SECRETS_FILE to the path of the file holding the endpoint's secrets \
             (or WEBHOOK_SECRETS to the secrets themselves: whsec_...)"
                    .to_owned()
            })
    }
}

/// Loads the keys (a missing or bad file stops the service here, with an error that names the
/// path, never a key), starts watching the file, and binds `listen`. Returns the address and
/// the server, to be awaited.
pub async fn start(
    keys: Keys,
    listen: &str,
    interval: Duration,
) -> Result<
    (SocketAddr, impl Future<Output = std::io::Result<()>> + Send),
    Box<dyn std::error::Error>,
> {
    let (verifier, watcher) = match keys {
        Keys::File(path) => {
            let verifier = Verifier::builder()
                .secrets_from_file(&path)
                .and_then(|keys| keys.build())
                .map_err(|e| format!("WEBHOOK_SECRETS_FILE: {e}"))?;
            let watcher = KeyFile::new(&path)
                .interval(interval)
                .on_event(|event| eprintln!("{event}"))
                .watch(&verifier)
                .map_err(|e| format!("WEBHOOK_SECRETS_FILE: {e}"))?;
            (verifier, Some(watcher))
        }
        Keys::Config(config) => (
            Verifier::builder()
                .secrets_from_config(&config)
                .and_then(|keys| keys.build())
                .map_err(|e| format!("WEBHOOK_SECRETS: {e}"))?,
            None,
        ),
    };
    println!("verifier: {verifier:?}");
    let watcher = Arc::new(watcher);
    let app = Router::new()
        .route("/webhooks/dinie", post(dinie))
        .route(
            "/health/webhook-keys",
            get(move || health(Arc::clone(&watcher))),
        )
        .with_state(verifier)
        .layer(DefaultBodyLimit::max(256 * 1024));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}/webhooks/dinie");
    Ok((addr, axum::serve(listener, app).into_future()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var("WEBHOOK_EXAMPLE_SELF_TEST").is_ok_and(|v| v == "1") {
        return key_file_self_test::run().await;
    }
    let keys = Keys::from_env()?;
    let listen = std::env::var("WEBHOOK_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let (_, server) = start(keys, &listen, standard_webhooks::DEFAULT_RELOAD_INTERVAL).await?;
    server.await?;
    Ok(())
}
