//! API bearer tokens: short-lived HS256 JWTs naming the user and workspace.

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Principal;

const ISSUER: &str = "bedside";
const AUDIENCE: &str = "bedside-api";

/// Claims of an API token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    ws: Uuid,
    /// The session (login) the token belongs to.
    sid: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Signs and verifies API tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from the configured secret.
    pub fn new(secret: &SecretString, ttl_secs: u64) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            ttl_secs,
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Issues a token for `principal`, valid from `now` (unix seconds).
    pub fn issue(&self, principal: Principal, now: i64) -> anyhow::Result<String> {
        let claims = Claims {
            sub: principal.user_id,
            ws: principal.workspace_id,
            sid: principal.session_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl_secs as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing API token")
    }

    /// Verifies signature, algorithm, issuer, audience and expiry (no leeway).
    pub fn verify(&self, token: &str) -> Option<Principal> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        Some(Principal {
            user_id: data.claims.sub,
            workspace_id: data.claims.ws,
            session_id: data.claims.sid,
        })
    }
}

#[cfg(test)]
#[path = "token_test.rs"]
mod tests;
