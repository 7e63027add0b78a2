//! Cross-site request forgery: state-changing requests (anything but GET, HEAD, OPTIONS)
//! from a browser page of another origin are refused on every route, server functions
//! and REST alike, before any handler runs.
//!
//! The check follows OWASP's "verifying origin with standard headers" and Fetch
//! Metadata: a browser says where a request comes from in `Sec-Fetch-Site` (all current
//! browsers) and `Origin` (every cross-origin request and every POST). A request whose
//! `Sec-Fetch-Site` is `cross-site` or `same-site` (a sibling subdomain is another
//! origin: it must not act for the portal's user), or whose `Origin` is not the portal's
//! own, is refused. Requests with neither header do not come from a browser page (curl,
//! SDKs, server-to-server Twirp), so there is no ambient cookie an attacker could ride;
//! they pass and are authenticated as usual.
//!
//! This replaces a token-based defence because the portal's server functions accept plain
//! form posts (progressive enhancement) where a hidden token would have to be threaded
//! through every form; the headers are set by the browser and cannot be forged by a page.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// Middleware: refuses cross-origin state-changing requests with 403 `cross_origin`.
pub async fn refuse_cross_origin(request: Request, next: Next) -> Response {
    if changes_state(request.method()) && !from_own_origin(request.headers()) {
        tracing::info!(method = %request.method(), "cross-origin request refused");
        return Error::CrossOrigin.into_response();
    }
    next.run(request).await
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a request's browser-set headers place it on the portal's own origin.
pub fn from_own_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match text("sec-fetch-site") {
        // `none`: the user's own action (typed address, bookmark).
        Some("same-origin" | "none") => {}
        Some(_) => return false,
        None => {}
    }
    match text(header::ORIGIN.as_str()) {
        None => true,
        Some(origin) => {
            let host = text(header::HOST.as_str()).unwrap_or_default();
            origin_host(origin).is_some_and(|o| !host.is_empty() && o.eq_ignore_ascii_case(host))
        }
    }
}

/// `host[:port]` of a serialized origin (`https://clinic.example:8443`); `None` for
/// `null` and anything that is not an http(s) origin.
fn origin_host(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

#[cfg(test)]
#[path = "csrf_test.rs"]
mod tests;
