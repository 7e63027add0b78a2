//! Unit tests of `grants`.

use livekit_api::access_token::{AccessToken, VideoGrants};

use super::*;

const KEY: &str = "APItest";
const SECRET: &str = "a-test-secret-of-sufficient-length-0123";

fn keys() -> LiveKitKeys {
    LiveKitKeys::new(KEY, &SecretString::from(SECRET.to_owned()))
}

fn token(grants: VideoGrants, identity: &str) -> String {
    AccessToken::with_api_key(KEY, SECRET)
        .with_identity(identity)
        .with_name("Patient")
        .with_grants(grants)
        .to_jwt()
        .unwrap()
}

fn join(room: &str) -> VideoGrants {
    VideoGrants {
        room_join: true,
        room: room.into(),
        ..Default::default()
    }
}

#[test]
fn a_join_token_yields_its_room_identity_and_default_permissions() {
    let grant = keys()
        .verify_join(&token(join("visit-1"), "patient-1"))
        .unwrap();
    assert_eq!(grant.room, "visit-1");
    assert_eq!(grant.identity, "patient-1");
    assert!(grant.can_publish && grant.can_subscribe && grant.can_publish_data && !grant.hidden);
    assert!(
        !grant.can_update_metadata,
        "renaming oneself must be granted"
    );
}

#[test]
fn explicit_permissions_are_carried_over() {
    let grants = VideoGrants {
        can_publish: Some(false),
        can_subscribe: Some(true),
        can_publish_sources: vec!["microphone".into()],
        hidden: true,
        can_update_own_metadata: Some(true),
        ..join("visit-1")
    };
    let grant = keys().verify_join(&token(grants, "observer")).unwrap();
    assert!(!grant.can_publish && !grant.can_publish_data && grant.hidden);
    assert!(grant.can_update_metadata);
    assert_eq!(grant.can_publish_sources, ["microphone"]);
}

#[test]
fn a_token_signed_with_another_secret_or_key_is_invalid() {
    let forged = AccessToken::with_api_key(KEY, "another-secret-another-secret-000")
        .with_identity("x")
        .with_grants(join("visit-1"))
        .to_jwt()
        .unwrap();
    assert_eq!(keys().verify_join(&forged), Err(GrantError::InvalidToken));
    let other_key = AccessToken::with_api_key("APIother", SECRET)
        .with_identity("x")
        .with_grants(join("visit-1"))
        .to_jwt()
        .unwrap();
    assert_eq!(
        keys().verify_join(&other_key),
        Err(GrantError::InvalidToken)
    );
    assert_eq!(keys().verify_join("garbage"), Err(GrantError::InvalidToken));
}

/// A token with arbitrary claims (the SDK refuses to mint some of these).
fn raw_token(claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn expired_and_not_yet_valid_tokens_are_invalid() {
    // LiveKit allows one minute of clock skew; these are well outside it.
    let video = serde_json::json!({ "roomJoin": true, "room": "visit-1" });
    let expired = raw_token(
        serde_json::json!({ "iss": KEY, "sub": "x", "nbf": now() - 600, "exp": now() - 300, "video": video }),
    );
    assert_eq!(keys().verify_join(&expired), Err(GrantError::InvalidToken));
    let early = raw_token(
        serde_json::json!({ "iss": KEY, "sub": "x", "nbf": now() + 300, "exp": now() + 600, "video": video }),
    );
    assert_eq!(keys().verify_join(&early), Err(GrantError::InvalidToken));
    let fine = raw_token(
        serde_json::json!({ "iss": KEY, "sub": "x", "nbf": now(), "exp": now() + 600, "video": video }),
    );
    assert!(keys().verify_join(&fine).is_ok());
}

#[test]
fn tokens_without_join_room_or_identity_are_refused() {
    let claims = |sub: &str, video: serde_json::Value| {
        raw_token(
            serde_json::json!({ "iss": KEY, "sub": sub, "nbf": now(), "exp": now() + 600, "video": video }),
        )
    };
    let no_join = claims("x", serde_json::json!({ "room": "visit-1" }));
    assert_eq!(
        keys().verify_join(&no_join),
        Err(GrantError::NotAllowedToJoin)
    );
    let no_room = claims("x", serde_json::json!({ "roomJoin": true }));
    assert_eq!(keys().verify_join(&no_room), Err(GrantError::MissingRoom));
    let no_identity = claims(
        "",
        serde_json::json!({ "roomJoin": true, "room": "visit-1" }),
    );
    assert_eq!(
        keys().verify_join(&no_identity),
        Err(GrantError::MissingIdentity)
    );
}
