//! ICE servers for visits: STUN, and TURN with ephemeral credentials in the TURN REST
//! scheme that coturn's `use-auth-secret` accepts: username `expiry:identity`,
//! credential base64(HMAC-SHA1(shared secret, username)). Nothing long-lived reaches
//! the browser, and a credential stops working at its expiry.

use app::meetings::IceServer;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// TURN and STUN settings (`BEDSIDE_TURN_URLS`, `BEDSIDE_TURN_SECRET`,
/// `BEDSIDE_STUN_URLS`, `BEDSIDE_TURN_TTL_SECS`).
#[derive(Debug, Clone, Default)]
pub struct TurnSettings {
    /// `stun:` URLs.
    pub stun_urls: Vec<String>,
    /// `turn:` / `turns:` URLs.
    pub turn_urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: Option<SecretString>,
    /// Credential lifetime.
    pub ttl_secs: u64,
}

impl TurnSettings {
    /// The ICE servers for `identity`, with TURN credentials valid until `now + ttl`.
    pub fn ice_servers(&self, identity: &str, now_unix: i64) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(IceServer {
                urls: self.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.secret) {
            let (username, credential) =
                credential(secret, identity, now_unix + self.ttl_secs as i64);
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        servers
    }
}

/// The TURN REST credential pair for `identity` expiring at `expiry_unix`.
pub fn credential(secret: &SecretString, identity: &str, expiry_unix: i64) -> (String, String) {
    let username = format!("{expiry_unix}:{identity}");
    // invariant: HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes any key length"); // invariant
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_turn_rest_scheme_coturn_checks() {
        // RFC 2104 HMAC-SHA1 of "1700000000:alice" with key "secret", base64, computed
        // independently: printf '1700000000:alice' | openssl dgst -sha1 -hmac secret -binary | base64
        let (username, credential) =
            credential(&"secret".to_owned().into(), "alice", 1_700_000_000);
        assert_eq!(username, "1700000000:alice");
        assert_eq!(credential, "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
    }

    #[test]
    fn without_a_secret_no_turn_entry_is_offered() {
        let settings = TurnSettings {
            stun_urls: vec!["stun:stun.clinic.example:3478".into()],
            turn_urls: vec!["turn:turn.clinic.example:3478".into()],
            secret: None,
            ttl_secs: 3600,
        };
        let servers = settings.ice_servers("alice", 0);
        assert_eq!(servers.len(), 1);
        assert!(servers[0].username.is_none());
    }
}
