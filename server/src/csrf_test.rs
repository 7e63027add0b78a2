use axum::http::{HeaderMap, HeaderValue};

use super::from_own_origin;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert("host", HeaderValue::from_static("clinic.example:3000"));
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn a_request_from_the_portals_own_pages_passes() {
    assert!(from_own_origin(&headers(&[
        ("origin", "http://clinic.example:3000"),
        ("sec-fetch-site", "same-origin"),
    ])));
    assert!(from_own_origin(&headers(&[(
        "origin",
        "https://CLINIC.example:3000"
    )])));
}

#[test]
fn a_request_without_browser_headers_is_not_a_page_and_passes() {
    assert!(from_own_origin(&headers(&[])));
}

#[test]
fn another_sites_page_is_refused_whatever_header_gives_it_away() {
    for pairs in [
        &[("origin", "https://attacker.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
        // A sibling subdomain is another origin too.
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "http://clinic.example:3000.attacker.example")][..],
        &[("origin", "http://clinic.example:3000/path")][..],
        &[
            ("origin", "https://attacker.example"),
            ("sec-fetch-site", "same-origin"),
        ][..],
    ] {
        assert!(!from_own_origin(&headers(pairs)), "{pairs:?}");
    }
}
