//! Sign-in throttling: after `max_failures` failed attempts on one account within a window,
//! further attempts are refused until the window ends, even with the right password.
//!
//! In memory (one server); keys are SHA-256 of the lowercased email, so no address is held
//! in plain text. A multi-node deployment moves this to Redis with the waiting room.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed-attempt counter per account.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: Instant,
}

impl LoginThrottle {
    /// A throttle allowing `max_failures` failures per `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(email: &str) -> Vec<u8> {
        super::hash_token(&email.trim().to_lowercase())
    }

    /// `Err(seconds to wait)` if the account is locked at `now`.
    pub fn check(&self, email: &str, now: Instant) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&Self::key(email)) {
            Some(e) if e.failures >= self.max_failures => {
                let until = e.first_failure + self.window;
                if now < until {
                    Err((until - now).as_secs().max(1))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt.
    pub fn record_failure(&self, email: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Keep the map bounded: forget windows that have ended.
        if entries.len() > 10_000 {
            let window = self.window;
            entries.retain(|_, e| now.duration_since(e.first_failure) < window);
        }
        let entry = entries.entry(Self::key(email)).or_insert(Entry {
            failures: 0,
            first_failure: now,
        });
        if now.duration_since(entry.first_failure) >= self.window {
            *entry = Entry {
                failures: 0,
                first_failure: now,
            };
        }
        entry.failures += 1;
    }

    /// Forgets failures after a successful sign-in.
    pub fn record_success(&self, email: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&Self::key(email));
    }
}

#[cfg(test)]
#[path = "throttle_test.rs"]
mod tests;
