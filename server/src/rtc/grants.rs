//! LiveKit access tokens: verification and the permissions they grant.
//!
//! A token is an HS256 JWT whose issuer (`iss`) is the API key and whose signature uses
//! the API secret; `exp` and `nbf` are checked without leeway by `livekit-api`'s
//! verifier. To join, the `video` grant must carry `roomJoin` and a `room`, and the token
//! must name an identity (`sub`).

use livekit_api::access_token::TokenVerifier;
use secrecy::{ExposeSecret, SecretString};

pub use bedside_sfu::JoinGrant;

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

    /// Verifies a server API token (room service): the video grants it carries.
    pub fn verify_api(
        &self,
        token: &str,
    ) -> Result<livekit_api::access_token::VideoGrants, GrantError> {
        self.verifier
            .verify(token)
            .map(|claims| claims.video)
            .map_err(|_| GrantError::InvalidToken)
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
            can_update_metadata: video.can_update_own_metadata(),
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
#[path = "grants_test.rs"]
mod tests;
