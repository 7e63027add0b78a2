//! A short memory of logins just confirmed live, so a client making many API calls in a
//! row (token refreshes, polling) costs one session lookup a second rather than one per
//! request.
//!
//! The trade: a login ended *on another node* (sign-out, idle, expiry) stays usable on
//! this one for at most [`LiveSessions::TTL`]. On this node sign-out and password
//! changes forget their entries at once. Only bearer tokens use it; the portal's cookie
//! sessions are looked up every time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Principal;

/// Entries kept before the memory starts over (a bound, not a working size).
const MAX_ENTRIES: usize = 100_000;

/// Recently confirmed logins by session id.
#[derive(Debug, Default)]
pub struct LiveSessions {
    entries: Mutex<HashMap<Uuid, (Principal, Instant)>>,
}

impl LiveSessions {
    /// How long a confirmation is trusted.
    pub const TTL: Duration = Duration::from_secs(1);

    /// The principal of `session_id` if confirmed within [`Self::TTL`] of `now`.
    pub fn get(&self, session_id: Uuid, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&session_id)
            .filter(|(_, at)| now.duration_since(*at) < Self::TTL)
            .map(|(principal, _)| *principal)
    }

    /// Remembers that `principal`'s login was live at `now`.
    pub fn confirm(&self, principal: Principal, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, at)| now.duration_since(*at) < Self::TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(principal.session_id, (principal, now));
    }

    /// Forgets every login of `user_id` (signed out, password changed).
    pub fn forget_user(&self, user_id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (principal, _)| principal.user_id != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(user: u128, session: u128) -> Principal {
        Principal {
            user_id: Uuid::from_u128(user),
            workspace_id: Uuid::nil(),
            session_id: Uuid::from_u128(session),
        }
    }

    #[test]
    fn a_confirmation_is_trusted_for_a_second_and_forgetting_a_user_ends_it_at_once() {
        let sessions = LiveSessions::default();
        let start = Instant::now();
        sessions.confirm(principal(1, 10), start);
        sessions.confirm(principal(2, 20), start);
        assert_eq!(
            sessions.get(Uuid::from_u128(10), start + Duration::from_millis(900)),
            Some(principal(1, 10))
        );
        assert_eq!(
            sessions.get(Uuid::from_u128(10), start + Duration::from_secs(1)),
            None
        );
        sessions.forget_user(Uuid::from_u128(2));
        assert_eq!(sessions.get(Uuid::from_u128(20), start), None);
        assert_eq!(sessions.get(Uuid::from_u128(99), start), None);
    }
}
