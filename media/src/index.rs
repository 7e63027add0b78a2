//! A receiver's view of one SSRC's SRTP packet index: the rollover counter a sequence
//! number most likely belongs to (RFC 3711 3.3.1 and appendix A), and the replay window
//! that refuses a packet seen before (3.3.2).
//!
//! str0m's own unprotect keeps no replay window; this one does, over the last 128
//! indexes (RFC 3711 asks for at least 64).

/// How far behind the highest index the window remembers.
const WINDOW: u64 = 128;

/// One SSRC's highest authenticated index and which of the ones below it arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivedIndex {
    /// The highest index authenticated so far.
    highest: Option<u64>,
    /// Bit `i`: index `highest - i` was authenticated (bit 0 is `highest` itself).
    seen: u128,
}

impl ReceivedIndex {
    /// A window that starts above `index` (what another receiver, str0m, already took:
    /// its rollover counter carries on here).
    pub fn after(index: u64) -> Self {
        Self {
            highest: Some(index),
            seen: 1,
        }
    }

    /// The highest index authenticated so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// The index a packet with sequence number `seq` most likely has: the one of the
    /// three candidate rollover counters (this, the previous, the next) that lands
    /// nearest the highest index so far (RFC 3711 appendix A).
    pub fn estimate(&self, seq: u16) -> u64 {
        let Some(highest) = self.highest else {
            return u64::from(seq);
        };
        let roc = highest >> 16;
        let last = (highest & 0xffff) as i64;
        let seq_wide = i64::from(seq);
        let roc = if last < 0x8000 {
            if seq_wide - last > 0x8000 {
                roc.saturating_sub(1)
            } else {
                roc
            }
        } else if last - 0x8000 > seq_wide {
            roc + 1
        } else {
            roc
        };
        (roc << 16) | u64::from(seq)
    }

    /// Whether `index` may be accepted: above the highest so far, or inside the window
    /// and not seen. Ask before authenticating; [`ReceivedIndex::accept`] after.
    pub fn is_fresh(&self, index: u64) -> bool {
        match self.highest {
            None => true,
            Some(highest) if index > highest => true,
            Some(highest) => {
                let behind = highest - index;
                behind < WINDOW && self.seen & (1u128 << behind) == 0
            }
        }
    }

    /// Records an authenticated packet's index.
    pub fn accept(&mut self, index: u64) {
        match self.highest {
            None => {
                self.highest = Some(index);
                self.seen = 1;
            }
            Some(highest) if index > highest => {
                let ahead = index - highest;
                self.seen = if ahead >= WINDOW {
                    0
                } else {
                    self.seen << ahead
                } | 1;
                self.highest = Some(index);
            }
            Some(highest) => {
                let behind = highest - index;
                if behind < WINDOW {
                    self.seen |= 1u128 << behind;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_packet_is_taken_at_rollover_counter_zero() {
        assert_eq!(ReceivedIndex::default().estimate(65_000), 65_000);
    }

    #[test]
    fn a_sequence_number_that_wrapped_moves_to_the_next_rollover_counter() {
        let mut index = ReceivedIndex::default();
        index.accept(65_530);
        assert_eq!(index.estimate(3), 65_536 + 3);
        index.accept(65_536 + 3);
        assert_eq!(
            index.estimate(65_533),
            65_533,
            "a late packet from before the wrap"
        );
    }

    #[test]
    fn a_window_taken_over_from_another_receiver_keeps_its_rollover_counter() {
        let index = ReceivedIndex::after((7 << 16) | 100);
        assert_eq!(index.estimate(101), (7 << 16) | 101);
        assert_eq!(index.estimate(65_000), (6 << 16) | 65_000);
    }

    #[test]
    fn a_replayed_or_too_old_packet_is_refused_and_a_late_new_one_taken() {
        let mut index = ReceivedIndex::default();
        for i in [10, 11, 13] {
            assert!(index.is_fresh(i));
            index.accept(i);
        }
        assert!(!index.is_fresh(11), "a replay");
        assert!(index.is_fresh(12), "late, never seen");
        index.accept(12);
        assert!(!index.is_fresh(12));
        index.accept(13 + 200);
        assert!(!index.is_fresh(13), "behind the window");
        assert!(index.is_fresh(13 + 199));
    }
}
