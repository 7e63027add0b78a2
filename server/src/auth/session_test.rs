//! Unit tests of `session`.

use super::*;
use axum::http::HeaderValue;

#[test]
fn the_session_token_is_found_among_other_cookies() {
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_static("a=1; bedside_session=tok; b=2"),
    );
    assert_eq!(token_from_headers(&headers).as_deref(), Some("tok"));
}

#[test]
fn no_or_empty_cookie_means_no_token() {
    let mut headers = HeaderMap::new();
    assert_eq!(token_from_headers(&headers), None);
    headers.insert(COOKIE, HeaderValue::from_static("bedside_session="));
    assert_eq!(token_from_headers(&headers), None);
}

#[test]
fn cookies_are_http_only_and_secure_in_production() {
    let policy = CookiePolicy {
        idle_secs: 60,
        secure: true,
        ttl_secs: 60,
    };
    let set = policy.set("tok");
    assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("Max-Age=60"));
    assert!(policy.clear().contains("Max-Age=0"));
}
