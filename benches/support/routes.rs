//! The routes both extractor benches serve (`benches/e2e.rs` over loopback,
//! `benches/extractors.rs` in process), the same for axum and actix-web. Each takes the 1 KiB
//! delivery of `delivery.rs` and answers `204 No Content`:
//!
//! - `/plain`: `Json<Event>` (`web::Json` on actix-web), no verification: the baseline;
//! - `/verified`: `Verified<Json<Event>>`;
//! - `/floor`: the body as `Bytes`, one pre-keyed HMAC-SHA256 of it, then the JSON deserializer
//!   `Json` uses: the least any verification adds;
//! - `/twice` ("re-wrap"): no verification, but the body buffered first and then handed to
//!   `Json`, as an extractor wrapping any inner extractor must;
//! - `/direct`: the body as `Bytes`, `Verifier::verify` called by hand on the request's headers
//!   (borrowed) and the body, then the JSON deserializer: the verification without the
//!   extractor. Like `/floor`, it skips the `Content-Type` check that `Json` makes.

use crate::delivery::{Event, verifier};

/// The routes, in the order the benches report them.
pub const ROUTES: [&str; 5] = ["/plain", "/verified", "/floor", "/twice", "/direct"];

/// One HMAC-SHA256 of `id.timestamp.body` from a pre-keyed state, as a verification must
/// compute; the tag is kept from being optimized away.
fn hmac_floor(body: &[u8]) {
    use hmac::{Hmac, KeyInit, Mac};
    use std::sync::OnceLock;
    static KEYED: OnceLock<Hmac<sha2::Sha256>> = OnceLock::new();
    let keyed =
        KEYED.get_or_init(|| <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&[0x31; 24]).unwrap());
    let mut mac = keyed.clone();
    mac.update(b"msg_2Kq8Wz.1764244800.");
    mac.update(body);
    std::hint::black_box(mac.finalize().into_bytes());
}

pub mod axum_routes {
    use super::*;
    use axum::body::{Body, Bytes};
    use axum::extract::{FromRequest, Request, State};
    use axum::http::StatusCode;
    use axum::{Json, Router, routing::post};
    use standard_webhooks::Verified;
    use standard_webhooks::Verifier;

    async fn plain(Json(_event): Json<Event>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn verified(Verified(Json(_event)): Verified<Json<Event>>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn floor(body: Bytes) -> StatusCode {
        hmac_floor(&body);
        // The deserializer `Json` itself uses.
        match Json::<Event>::from_bytes(&body) {
            Ok(Json(_event)) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    async fn twice(req: Request) -> StatusCode {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 2 << 20).await else {
            return StatusCode::BAD_REQUEST;
        };
        let req = Request::from_parts(parts, Body::from(bytes));
        match Json::<Event>::from_request(req, &()).await {
            Ok(Json(_event)) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    async fn direct(State(verifier): State<Verifier>, req: Request) -> StatusCode {
        // The headers borrowed from the request (axum's `HeaderMap` extractor would clone them).
        let (parts, body) = req.into_parts();
        let Ok(body) = axum::body::to_bytes(body, 2 << 20).await else {
            return StatusCode::BAD_REQUEST;
        };
        if verifier.verify(&parts.headers, &body).is_err() {
            return StatusCode::UNAUTHORIZED;
        }
        match Json::<Event>::from_bytes(&body) {
            Ok(Json(_event)) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The five routes, with the verifier as state.
    pub fn router() -> Router {
        Router::new()
            .route("/plain", post(plain))
            .route("/verified", post(verified))
            .route("/floor", post(floor))
            .route("/twice", post(twice))
            .route("/direct", post(direct))
            .with_state(verifier())
    }
}

pub mod actix_routes {
    use super::*;
    use actix_web::dev::Payload;
    use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
    use standard_webhooks::Verified;
    use standard_webhooks::Verifier;

    async fn plain(_event: web::Json<Event>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    async fn verified(Verified(_event): Verified<web::Json<Event>>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    async fn floor(body: web::Bytes) -> HttpResponse {
        hmac_floor(&body);
        match serde_json::from_slice::<Event>(&body) {
            Ok(_event) => HttpResponse::NoContent().finish(),
            Err(_) => HttpResponse::BadRequest().finish(),
        }
    }

    async fn twice(req: HttpRequest, payload: web::Payload) -> HttpResponse {
        let Ok(bytes) = web::Bytes::from_request(&req, &mut payload.into_inner()).await else {
            return HttpResponse::BadRequest().finish();
        };
        match web::Json::<Event>::from_request(&req, &mut Payload::from(bytes)).await {
            Ok(_event) => HttpResponse::NoContent().finish(),
            Err(_) => HttpResponse::BadRequest().finish(),
        }
    }

    async fn direct(
        req: HttpRequest,
        verifier: web::Data<Verifier>,
        body: web::Bytes,
    ) -> HttpResponse {
        if verifier.verify(req.headers(), &body).is_err() {
            return HttpResponse::Unauthorized().finish();
        }
        match serde_json::from_slice::<Event>(&body) {
            Ok(_event) => HttpResponse::NoContent().finish(),
            Err(_) => HttpResponse::BadRequest().finish(),
        }
    }

    /// The five routes; the app must hold a `web::Data<Verifier>` (see [`verifier_data`]).
    pub fn configure(cfg: &mut web::ServiceConfig) {
        cfg.route("/plain", web::post().to(plain))
            .route("/verified", web::post().to(verified))
            .route("/floor", web::post().to(floor))
            .route("/twice", web::post().to(twice))
            .route("/direct", web::post().to(direct));
    }

    /// The verifier as actix-web app data.
    pub fn verifier_data() -> web::Data<Verifier> {
        web::Data::new(verifier())
    }
}
