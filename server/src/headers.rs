//! Response headers every page and API answer carries, as `tower-http` layers:
//! a strict Content-Security-Policy, `no-store` for anything that may show PHI, the
//! usual hardening headers, HSTS in production, and a timeout on request handling.
//!
//! The portal's only inline script is Leptos' hydration bootstrap; it carries the
//! per-request nonce that `leptos_axum` generates, and the policy names that nonce
//! ([`page_policy`], set while rendering). Every other response gets [`BASE_POLICY`],
//! which allows no inline script at all. No third-party origin appears anywhere.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// The policy of responses rendered without a nonce (API, static files, error pages).
pub const BASE_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a rendered page whose hydration script carries `nonce`.
pub fn page_policy(nonce: &str) -> String {
    BASE_POLICY.replacen(
        "script-src 'self'",
        &format!("script-src 'self' 'nonce-{nonce}'"),
        1,
    )
}

/// Longest time a request may take to be answered (WebSocket sessions run after their
/// upgrade response, so they are not cut).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `no-store` for HTML and JSON (pages and API answers may show PHI; the back button
/// after sign-out must not show a schedule). Scripts, wasm, styles and images may be
/// cached.
fn cache_control(response: &Response) -> Option<HeaderValue> {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    (content_type.starts_with("text/html") || content_type.starts_with("application/json"))
        .then(|| HeaderValue::from_static("no-store"))
}

/// Adds the header layers to `router`; `production` adds HSTS (served behind TLS).
pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>, production: bool) -> Router<S> {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, BASE_POLICY),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), display-capture=(self), geolocation=()",
        ),
    ];
    let mut router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            cache_control,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    for (name, value) in fixed {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if production {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    router
}
