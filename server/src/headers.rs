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

/// The policy of a rendered page whose hydration script carries `nonce`. Pages may
/// also open WebSockets to `media_sources` (the media server's origin, when it is not
/// this one: an external LiveKit, or a dedicated `server sfu` host); nothing else.
pub fn page_policy(nonce: &str, media_sources: &str) -> String {
    let policy = BASE_POLICY.replacen(
        "script-src 'self'",
        &format!("script-src 'self' 'nonce-{nonce}'"),
        1,
    );
    if media_sources.is_empty() {
        return policy;
    }
    policy.replacen(
        "connect-src 'self'",
        &format!("connect-src 'self' {media_sources}"),
        1,
    )
}

/// The CSP source for the media server at `client_url` (`ws(s)://host[:port][/path]`):
/// its scheme, host and port, or nothing for a URL that is not a WebSocket URL.
pub fn media_source(client_url: &str) -> String {
    let Some((scheme, rest)) = client_url.split_once("://") else {
        return String::new();
    };
    if scheme != "ws" && scheme != "wss" {
        return String::new();
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let clean = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if clean {
        format!("{scheme}://{authority}")
    } else {
        String::new()
    }
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

/// Documents that may use the camera and microphone: the app's pages. The portal is a
/// single-page app, so the document a call runs in is whichever page the browser loaded
/// first. A clinician who signs in on `/login` and clicks through to a visit is still in
/// the `/login` document; so is a new colleague arriving from `/invitation`. A policy
/// kept to "call pages" would block their camera. Every other response (API answers,
/// static files, signaling, metrics) says no camera, no microphone, no screen capture.
fn may_capture(path: &str) -> bool {
    let not_pages = ["/api/", "/pkg/", "/health", "/rtc", "/twirp/", "/metrics"];
    !not_pages.iter().any(|prefix| path.starts_with(prefix)) && !path.contains('.')
}

/// Pages a one-tap link opens: they send no `Referer` at all (the link page's URL is
/// nothing to share, and it never leaves for another origin).
fn is_link_page(path: &str) -> bool {
    path == "/visit" || path == "/invitation"
}

/// `Permissions-Policy` and `Referrer-Policy` by path (see [`may_capture`] and
/// [`is_link_page`]).
async fn per_page(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let permissions = if may_capture(&path) {
        "camera=(self), microphone=(self), display-capture=(self), geolocation=()"
    } else {
        "camera=(), microphone=(), display-capture=(), geolocation=()"
    };
    let referrer = if is_link_page(&path) {
        "no-referrer"
    } else {
        "same-origin"
    };
    let headers = response.headers_mut();
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(permissions),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    response
}

/// Adds the header layers to `router`; `production` adds HSTS (served behind TLS).
pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>, production: bool) -> Router<S> {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, BASE_POLICY),
    ];
    let mut router = router
        .layer(axum::middleware::from_fn(per_page))
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

#[cfg(test)]
mod media_source_tests {
    use super::*;

    #[test]
    fn only_pages_may_use_the_camera_and_link_pages_send_no_referrer() {
        for page in [
            "/visit",
            "/visits/42",
            "/",
            "/patients",
            "/dev/call",
            "/login",
        ] {
            assert!(may_capture(page), "{page}");
        }
        for other in [
            "/api/v1/me",
            "/pkg/bedside.wasm",
            "/favicon.svg",
            "/rtc/v1",
            "/metrics",
        ] {
            assert!(!may_capture(other), "{other}");
        }
        assert!(is_link_page("/visit") && is_link_page("/invitation"));
        assert!(!is_link_page("/visits/42") && !is_link_page("/"));
    }

    #[test]
    fn pages_may_connect_to_the_media_servers_origin_and_nowhere_else() {
        assert_eq!(
            media_source("wss://media.example:7880/rtc"),
            "wss://media.example:7880"
        );
        assert_eq!(media_source("ws://127.0.0.1:3000"), "ws://127.0.0.1:3000");
        assert_eq!(media_source("https://media.example"), "");
        assert_eq!(media_source("wss://evil.example; script-src *"), "");
        let policy = page_policy("n0nce", "wss://media.example");
        assert!(policy.contains("connect-src 'self' wss://media.example;"));
        assert!(policy.contains("'nonce-n0nce'"));
        assert!(page_policy("n", "").contains("connect-src 'self';"));
    }
}
