//! Per-page response headers: where the camera may be used, and which pages send no
//! `Referer`.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_camera_is_allowed_only_in_the_apps_pages_and_link_pages_send_no_referrer() {
    let app = spawn_app().await;
    let get = |path: &str| reqwest::get(format!("{}{path}", app.address));
    let policy_of = |response: &reqwest::Response| {
        response.headers()["permissions-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let visit = get("/visit").await.unwrap();
    assert_eq!(visit.headers()["referrer-policy"], "no-referrer");
    assert!(policy_of(&visit).contains("camera=(self)"));
    // Sign-in leads into the single-page portal, where a call may start in this document.
    let login = get("/login").await.unwrap();
    assert_eq!(login.headers()["referrer-policy"], "same-origin");
    assert!(policy_of(&login).contains("camera=(self)"));
    for other in ["/api/v1/me", "/pkg/bedside.css", "/health"] {
        let policy = policy_of(&get(other).await.unwrap());
        assert!(
            policy.contains("camera=()") && policy.contains("microphone=()"),
            "{other}: {policy}"
        );
    }
}
