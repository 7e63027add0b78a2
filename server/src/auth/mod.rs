//! Authentication: passwords (argon2id), portal sessions (HttpOnly cookie), API bearer
//! tokens (JWT), sign-in throttling, and the extractor that yields the signed-in user.

pub mod extract;
pub mod live_sessions;
pub mod password;
pub mod password_policy;
pub mod routes;
pub mod service;
pub mod session;
pub mod throttle;
pub mod token;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Who made a request: enough to open a workspace transaction and check ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: Uuid,
    /// Their workspace.
    pub workspace_id: Uuid,
    /// The login (session) the request rides on: a cookie's session, or the session a
    /// bearer token was issued with. Ending it ends both.
    pub session_id: Uuid,
}

/// 256 random bits, URL-safe base64 (session cookies, generated secrets).
pub fn random_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, as stored in the database.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
