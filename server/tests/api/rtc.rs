use livekit_api::access_token::{AccessToken, VideoGrants};
use reqwest::StatusCode;
use secrecy::ExposeSecret;

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
    let secret = app
        .settings
        .livekit
        .api_secret
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
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
