//! LiveKit access tokens: verification and the permissions they grant.
//!
//! A token is an HS256 JWT whose issuer (`iss`) is the API key and whose signature uses
//! the API secret; `exp` and `nbf` are checked without leeway by `livekit-api`'s
//! verifier. To join, the `video` grant must carry `roomJoin` and a `room`, and the token
//! must name an identity (`sub`).

use livekit_api::access_token::TokenVerifier;
use secrecy::{ExposeSecret, SecretString};

/// What a verified token lets a participant do in its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGrant {
    /// Participant identity (`sub`), unique within the room.
    pub identity: String,
    /// Display name.
    pub name: String,
    /// The room it may join.
    pub room: String,
    /// May publish tracks (default true).
    pub can_publish: bool,
    /// Sources it may publish (`camera`, `microphone`, `screen_share`, ...); empty = any.
    pub can_publish_sources: Vec<String>,
    /// May subscribe to others' tracks (default true).
    pub can_subscribe: bool,
    /// May send data packets (defaults to `can_publish`).
    pub can_publish_data: bool,
    /// Invisible to other participants.
    pub hidden: bool,
    /// Participant metadata.
    pub metadata: String,
}

/// Why a token was refused. The text is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// Bad signature, wrong issuer, expired, not yet valid, or not a JWT.
    #[error("invalid token")]
    InvalidToken,
    /// The token does not grant `roomJoin`.
    #[error("token does not allow joining a room")]
    NotAllowedToJoin,
    /// No room in the grant.
    #[error("token names no room")]
    MissingRoom,
    /// No identity (`sub`).
    #[error("token names no identity")]
    MissingIdentity,
}

/// Verifies access tokens against the configured API key and secret.
pub struct LiveKitKeys {
    verifier: TokenVerifier,
}

impl std::fmt::Debug for LiveKitKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKitKeys").finish_non_exhaustive()
    }
}

impl LiveKitKeys {
    /// Keys from the API key and secret.
    pub fn new(api_key: &str, api_secret: &SecretString) -> Self {
        Self {
            verifier: TokenVerifier::with_api_key(api_key, api_secret.expose_secret()),
        }
    }

    /// Verifies `token` and returns its join grant.
    pub fn verify_join(&self, token: &str) -> Result<JoinGrant, GrantError> {
        let claims = self
            .verifier
            .verify(token)
            .map_err(|_| GrantError::InvalidToken)?;
        let video = claims.video;
        if !video.room_join {
            return Err(GrantError::NotAllowedToJoin);
        }
        if video.room.is_empty() {
            return Err(GrantError::MissingRoom);
        }
        if claims.sub.is_empty() {
            return Err(GrantError::MissingIdentity);
        }
        Ok(JoinGrant {
            can_publish: video.can_publish(),
            can_subscribe: video.can_subscribe(),
            can_publish_data: video.can_publish_data(),
            can_publish_sources: video.can_publish_sources,
            hidden: video.hidden,
            identity: claims.sub,
            name: claims.name,
            room: video.room,
            metadata: claims.metadata,
        })
    }
}

#[cfg(test)]
mod tests {
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
        assert!(
            grant.can_publish && grant.can_subscribe && grant.can_publish_data && !grant.hidden
        );
    }

    #[test]
    fn explicit_permissions_are_carried_over() {
        let grants = VideoGrants {
            can_publish: Some(false),
            can_subscribe: Some(true),
            can_publish_sources: vec!["microphone".into()],
            hidden: true,
            ..join("visit-1")
        };
        let grant = keys().verify_join(&token(grants, "observer")).unwrap();
        assert!(!grant.can_publish && !grant.can_publish_data && grant.hidden);
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
}
