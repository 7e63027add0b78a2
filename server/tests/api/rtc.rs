use livekit_api::access_token::{AccessToken, VideoGrants};
use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};

fn join_token(app: &TestApp, secret: &str) -> String {
    AccessToken::with_api_key(app.settings.livekit.api_key.as_deref().unwrap(), secret)
        .with_identity("patient-1")
        .with_grants(VideoGrants {
            room_join: true,
            room: "visit-1".into(),
            ..Default::default()
        })
        .to_jwt()
        .unwrap()
}

#[tokio::test]
async fn rtc_validate_accepts_a_token_minted_by_livekits_sdk_with_the_configured_keys() {
    let app = spawn_app().await;
    let (_, secret) = app.livekit_keys();
    let token = join_token(&app, &secret);
    for path in ["/rtc/validate", "/rtc/v1/validate"] {
        let response = reqwest::get(format!("{}{path}?access_token={token}", app.address))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.text().await.unwrap(), "success");
    }
}

#[tokio::test]
async fn rtc_validate_refuses_forged_or_missing_tokens() {
    let app = spawn_app().await;
    let forged = join_token(&app, "not-the-configured-secret-0123456789");
    for query in [
        format!("access_token={forged}"),
        String::new(),
        "access_token=garbage".into(),
    ] {
        let response = reqwest::get(format!("{}/rtc/validate?{query}", app.address))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{query}");
    }
}

#[tokio::test]
async fn rtc_validate_and_signaling_take_the_token_from_an_authorization_header_too() {
    // LiveKit's SDKs built on its Rust core send the token as a bearer header.
    let app = spawn_app().await;
    let (_, secret) = app.livekit_keys();
    let valid = join_token(&app, &secret);
    let forged = join_token(&app, "not-the-configured-secret-0123456789");
    for path in ["/rtc/validate", "/rtc/v1/validate"] {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", app.address))
            .bearer_auth(&valid)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let refused = reqwest::Client::new()
            .get(format!("{}{path}", app.address))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    for path in ["/rtc", "/rtc/v1"] {
        let ok = upgrade_with(&app, path, Some(&valid)).await;
        assert_eq!(ok.status(), StatusCode::SWITCHING_PROTOCOLS, "{path}");
        let refused = upgrade_with(&app, path, Some(&forged)).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

/// A WebSocket upgrade request for `path`, as a browser sends it.
async fn upgrade(app: &TestApp, path_and_query: &str) -> reqwest::Response {
    upgrade_with(app, path_and_query, None).await
}

/// A WebSocket upgrade request, with the token in an `Authorization` header if given.
async fn upgrade_with(
    app: &TestApp,
    path_and_query: &str,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path_and_query}", app.address));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rtc_signaling_upgrades_for_a_valid_token_and_refuses_forged_ones_before_upgrading() {
    let app = spawn_app().await;
    let (_, secret) = app.livekit_keys();
    let valid = join_token(&app, &secret);
    let forged = join_token(&app, "not-the-configured-secret-0123456789");
    for path in ["/rtc", "/rtc/v1"] {
        let ok = upgrade(&app, &format!("{path}?access_token={valid}")).await;
        assert_eq!(ok.status(), StatusCode::SWITCHING_PROTOCOLS, "{path}");
        let refused = upgrade(&app, &format!("{path}?access_token={forged}")).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(refused.text().await.unwrap(), "invalid token");
        let missing = upgrade(&app, path).await;
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn rtc_v1_refuses_a_malformed_join_request_with_400() {
    let app = spawn_app().await;
    let (_, secret) = app.livekit_keys();
    let token = join_token(&app, &secret);
    for (join_request, reason) in [
        ("%25%25%25", "join_request is not base64url"),
        ("AAAA____", "join_request is malformed"),
    ] {
        let response = upgrade(
            &app,
            &format!("/rtc/v1?access_token={token}&join_request={join_request}"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{join_request}");
        assert_eq!(response.text().await.unwrap(), reason);
    }
}
