//! A token bucket on the caller's clock (sans-IO: `now` is always passed in).

use std::time::Instant;

/// `burst` units at once, refilled at `per_second`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(burst: f64, per_second: f64, now: Instant) -> Self {
        Self {
            tokens: burst,
            burst,
            per_second,
            last: now,
        }
    }

    /// Takes `cost` units if the bucket holds them at `now`; `false` (nothing taken) if not.
    pub fn take(&mut self, cost: f64, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens < cost {
            return false;
        }
        self.tokens -= cost;
        true
    }
}
