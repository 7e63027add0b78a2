//! Sign-in throttling that slows an attacker down without locking the clinician out.
//!
//! Three counters, each over a sliding `window` of failures:
//! - per **account and source** (`free_per_pair`, 5): guessing one account from one
//!   address;
//! - per **source** (`free_per_source`): password spraying, one password tried on many
//!   accounts from one address;
//! - per **account** (`free_per_account`, well above the first): guessing one account
//!   from many addresses.
//!
//! Within its free allowance a counter admits attempts freely. Past it, attempts are
//! admitted one at a time, each after a delay that doubles per further failure up to
//! `max_delay` (a minute by default): an attacker gets a guess a minute, while the real
//! clinician, whose address has no failures against the account, is not affected by the
//! attacker's and never waits more than `max_delay` (HIPAA emergency access) even under
//! a distributed attack. A success clears the account's counters.
//!
//! Attempts are *reserved* before the password is checked (`begin`) and settled after,
//! all under one lock, so parallel wrong passwords cannot all pass the check before the
//! first failure is recorded. Keys are SHA-256 hashes: no email or address is held in
//! clear. In memory on one node; the Redis store of the control plane takes it over for
//! several nodes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Limits of the sign-in throttle.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures admitted freely per account and source within `window`.
    pub free_per_pair: u32,
    /// Failures admitted freely per source (over all accounts) within `window`.
    pub free_per_source: u32,
    /// Failures admitted freely per account (over all sources) within `window`.
    pub free_per_account: u32,
    /// How long a failure counts.
    pub window: Duration,
    /// Longest delay between two attempts past the free allowance.
    pub max_delay: Duration,
}

/// Which counter an entry belongs to (part of its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    Pair,
    Source,
    Account,
}

type Key = (Scope, Vec<u8>);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    in_flight: u32,
    window_start: Instant,
    next_allowed: Instant,
}

/// The throttle shared by every sign-in path (REST and portal).
#[derive(Debug)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    entries: Mutex<HashMap<Key, Entry>>,
}

/// An admitted attempt; settle it with [`Attempt::failed`] or [`Attempt::succeeded`].
/// Dropped unsettled (an error before the verdict), it counts as neither.
#[derive(Debug)]
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    keys: Vec<Key>,
    started: Instant,
    settled: bool,
}

impl LoginThrottle {
    /// A throttle with `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keys(email: &str, source: Option<IpAddr>) -> Vec<Key> {
        let email = email.trim().to_lowercase();
        let mut keys = vec![(Scope::Account, super::hash_token(&email))];
        if let Some(source) = source {
            let source = source.to_string();
            keys.push((Scope::Source, super::hash_token(&source)));
            keys.push((
                Scope::Pair,
                super::hash_token(&format!("{email}\n{source}")),
            ));
        }
        keys
    }

    fn free(&self, scope: Scope) -> u32 {
        match scope {
            Scope::Pair => self.policy.free_per_pair,
            Scope::Source => self.policy.free_per_source,
            Scope::Account => self.policy.free_per_account,
        }
    }

    /// The delay after the `over`th failure at or past the allowance: 1 s, 2 s, 4 s ...
    fn delay(&self, over: u32) -> Duration {
        let doubled = Duration::from_secs(1).saturating_mul(1u32 << over.saturating_sub(1).min(20));
        doubled.min(self.policy.max_delay)
    }

    /// Admits an attempt on `email` from `source`, or says how many seconds to wait.
    /// The attempt is counted from here on, before the password is checked.
    pub fn begin(
        self: &Arc<Self>,
        email: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, u64> {
        let keys = Self::keys(email, source);
        let mut entries = self.lock();
        if entries.len() > 50_000 {
            let window = self.policy.window;
            entries.retain(|_, e| e.in_flight > 0 || now.duration_since(e.window_start) < window);
        }
        // Check every counter first, then reserve in all of them: all or nothing.
        let mut wait = 0u64;
        for key in &keys {
            let Some(entry) = entries.get_mut(key) else {
                continue;
            };
            if entry.in_flight == 0 && now.duration_since(entry.window_start) >= self.policy.window
            {
                entry.failures = 0;
                entry.window_start = now;
            }
            if entry.failures + entry.in_flight < self.free(key.0) {
                continue;
            }
            // Past the allowance: one attempt at a time, spaced out.
            if entry.in_flight > 0 {
                wait = wait.max(1);
            } else if now < entry.next_allowed {
                wait = wait.max((entry.next_allowed - now).as_secs().max(1));
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for key in &keys {
            entries
                .entry(key.clone())
                .or_insert(Entry {
                    failures: 0,
                    in_flight: 0,
                    window_start: now,
                    next_allowed: now,
                })
                .in_flight += 1;
        }
        Ok(Attempt {
            throttle: self.clone(),
            keys,
            started: now,
            settled: false,
        })
    }

    fn settle(&self, attempt: &Attempt, verdict: Verdict) {
        let mut entries = self.lock();
        for key in &attempt.keys {
            if verdict == Verdict::Succeeded && key.0 != Scope::Source {
                entries.remove(key);
                continue;
            }
            let free = self.free(key.0);
            if let Some(entry) = entries.get_mut(key) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
                if verdict == Verdict::Failed {
                    entry.failures += 1;
                    if entry.failures >= free {
                        let over = entry.failures + 1 - free;
                        entry.next_allowed = attempt.started + self.delay(over);
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Failed,
    Succeeded,
    Abandoned,
}

impl Attempt {
    /// The password was wrong (or the account unknown).
    pub fn failed(mut self) {
        self.settled = true;
        self.throttle.settle(&self, Verdict::Failed);
    }

    /// The password was right: the account's counters are cleared.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle.settle(&self, Verdict::Succeeded);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(self, Verdict::Abandoned);
        }
    }
}

#[cfg(test)]
#[path = "throttle_test.rs"]
mod tests;
