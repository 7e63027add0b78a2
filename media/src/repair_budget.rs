//! How much a sender may spend on repairs (RTX answers to NACKs): a share of its
//! estimate, as libwebrtc bounds retransmissions with a rate limiter on its target rate.
//!
//! Found through a coturn that polices a subscriber's link at 360 kbit/s (the browser
//! suite's weak policed link, docs/sfu.md): a layer above the link lost packets, the
//! receiver asked for each again every round trip (libwebrtc asks up to 10 times), every
//! ask was answered, and the answers, dropped by the same policer, were lost in turn. The
//! sender went from about 300 to 1,200 packets a second, 99% of them lost, and the
//! loss-based estimate fell to a quarter of what the link carries. Repairs that exceed
//! their share now wait for the next NACK, which comes a round trip later.

use std::time::{Duration, Instant};

/// Repairs may use this share of the estimate, in percent.
pub const REPAIR_SHARE_PERCENT: u64 = 50;
/// Unspent budget is kept for at most this long at the repair rate: a burst of loss is
/// answered at once up to that, the rest a round trip later.
const REPAIR_BURST: Duration = Duration::from_millis(250);
/// The smallest burst: one full-size packet can always go.
const MIN_BURST_BYTES: i64 = 1_500;

/// A token bucket of repair bytes, refilled at [`REPAIR_SHARE_PERCENT`] of the estimate.
#[derive(Debug, Clone, Default)]
pub struct RepairBudget {
    bytes: i64,
    at: Option<Instant>,
}

impl RepairBudget {
    /// Whether a repair of `size` bytes may go `now`, with the estimate at
    /// `estimate_bps`; if so it is spent.
    pub fn spend(&mut self, now: Instant, estimate_bps: u64, size: usize) -> bool {
        let rate = (estimate_bps * REPAIR_SHARE_PERCENT / 100 / 8) as i64;
        let burst = (rate * REPAIR_BURST.as_millis() as i64 / 1_000).max(MIN_BURST_BYTES);
        // A sender starts with a full burst.
        let earned = self.at.map_or(burst, |at| {
            let elapsed = now.saturating_duration_since(at);
            (elapsed.as_micros() as i64).saturating_mul(rate) / 1_000_000
        });
        self.bytes = self.bytes.saturating_add(earned).min(burst);
        self.at = Some(now);
        if self.bytes <= 0 {
            return false;
        }
        self.bytes -= size as i64;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_are_held_to_half_the_estimate_after_a_short_burst() {
        let start = Instant::now();
        let mut budget = RepairBudget::default();
        // 400 kbit/s: 25,000 bytes a second for repairs, 6,250 at once.
        let mut sent = 0;
        for ms in 0..2_000u64 {
            let now = start + Duration::from_millis(ms);
            // Asked for ten packets every millisecond: far more than the link carries.
            for _ in 0..10 {
                if budget.spend(now, 400_000, 1_000) {
                    sent += 1_000;
                }
            }
        }
        // Two seconds at 25,000 a second, one burst, and one packet of overdraft.
        assert!((55_000..=58_000).contains(&sent), "{sent}");
    }

    #[test]
    fn a_single_repair_always_goes_on_a_link_with_room() {
        let start = Instant::now();
        let mut budget = RepairBudget::default();
        assert!(budget.spend(start, 30_000, 1_200));
        let later = start + Duration::from_secs(1);
        assert!(budget.spend(later, 30_000, 1_200));
    }
}
