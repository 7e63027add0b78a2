//! Which simulcast layer a subscriber gets: a pure function of the layers the publisher
//! sends, what the subscriber asked for (`UpdateTrackSettings`: disabled, visible size,
//! quality) and what its downlink can carry (str0m's TWCC estimate), with hysteresis.
//! Table-tested in `layers_test.rs`; the forwarder switches only on a keyframe of the
//! chosen layer. When even the lowest layer clearly does not fit, its lower frame rates
//! are kept if it has temporal layers ([`temporal_fallback`]); when not even those fit,
//! video pauses ([`must_pause`]) and the subscriber is told (`StreamStateUpdate`).

use std::time::{Duration, Instant};

/// One layer of a published video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSpec {
    /// 0 = `q` (low), 1 = `h` (medium), 2 = `f` (high); a track without simulcast has
    /// one layer of rank 0.
    pub rank: u8,
    /// Encoded width (0 if unknown).
    pub width: u32,
    /// Bits per second it costs: measured on arrival when it has been flowing, else what
    /// the publisher announced.
    pub bitrate_bps: u64,
}

/// A layer's measured bitrate: payload bytes counted per window of [`RATE_WINDOW`],
/// plus [`HEADER_OVERHEAD`] for the RTP, SRTP and UDP/IP headers around them, smoothed
/// across windows. Publishers announce what a layer may use at most; what it uses is
/// often far less (a still picture, a small window), and choosing by the announcement
/// left thin links with no video at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerRate {
    window_start: std::time::Instant,
    bytes: u64,
    bps: Option<u64>,
}

/// How long one measurement window is.
pub const RATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(1);
/// Headers on top of the payload: about 60 bytes per packet of up to 1200.
const HEADER_OVERHEAD: f64 = 1.08;

impl LayerRate {
    /// Starts measuring at `now`.
    pub fn new(now: std::time::Instant) -> Self {
        Self {
            window_start: now,
            bytes: 0,
            bps: None,
        }
    }

    /// A frame of `bytes` arrived at `now`.
    pub fn record(&mut self, now: std::time::Instant, bytes: usize) {
        self.bytes += bytes as u64;
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed < RATE_WINDOW {
            return;
        }
        let measured = (self.bytes as f64 * 8.0 * HEADER_OVERHEAD / elapsed.as_secs_f64()) as u64;
        self.bps = Some(match self.bps {
            Some(old) => (old + measured) / 2,
            None => measured,
        });
        self.window_start = now;
        self.bytes = 0;
    }

    /// Bits per second, once a whole window was measured.
    pub fn bps(&self) -> Option<u64> {
        self.bps
    }
}

/// What a subscriber asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wanted {
    /// Nothing at all (a hidden or paused video element).
    pub disabled: bool,
    /// Width it renders at (0: unknown, no limit).
    pub width: u32,
    /// Highest rank it wants (`None`: no limit).
    pub max_rank: Option<u8>,
}

/// A higher layer must fit this many times over before the subscriber moves up, so a
/// fluctuating estimate does not flap between layers.
const UP_HEADROOM: f64 = 1.2;

/// The rank to forward, or `None` for nothing. `budget_bps` is the share of the
/// subscriber's estimated downlink for this track (`None`: no estimate yet, no limit).
pub fn select_layer(
    layers: &[LayerSpec],
    wanted: Wanted,
    budget_bps: Option<u64>,
    current: Option<u8>,
) -> Option<u8> {
    if wanted.disabled || layers.is_empty() {
        return None;
    }
    let mut sorted: Vec<LayerSpec> = layers.to_vec();
    sorted.sort_by_key(|l| l.rank);
    let lowest = sorted[0].rank;
    // The size ceiling: the smallest layer at least as wide as the element; any
    // larger one would be scaled down by the browser anyway.
    let widths_known = sorted.iter().any(|l| l.width > 0);
    let by_size = match wanted.width {
        0 => None,
        _ if !widths_known => None,
        width => sorted
            .iter()
            .find(|l| l.width >= width)
            .or(sorted.last())
            .map(|l| l.rank),
    };
    let ceiling = [by_size, wanted.max_rank, sorted.last().map(|l| l.rank)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(lowest)
        .max(lowest);
    let Some(budget) = budget_bps else {
        return Some(ceiling);
    };
    let fits = |layer: &LayerSpec| {
        let needed = layer.bitrate_bps as f64;
        let staying = Some(layer.rank) <= current;
        let headroom = if staying { 1.0 } else { UP_HEADROOM };
        needed * headroom <= budget as f64
    };
    let chosen = sorted
        .iter()
        .filter(|l| l.rank <= ceiling)
        .filter(|l| fits(l))
        .map(|l| l.rank)
        .max();
    // Never starve a subscriber: the lowest layer is the floor.
    Some(chosen.unwrap_or(lowest))
}

/// Below this share of what the lowest layer needs, video pauses: forwarding a layer the
/// link cannot carry only queues and drops it, and the subscriber sees nothing (a frozen
/// or black tile) without being told why. Between this and the layer's whole cost the
/// lowest layer keeps flowing: the estimate is close, and it grows into what is sent.
const PAUSE_BELOW: f64 = 0.7;
/// A paused track resumes once the lowest layer fits whole (hysteresis, so a link at
/// the edge does not flap between paused and active).
const RESUME_AT: f64 = 1.0;

/// Whether a track's video must pause for `budget_bps` (`None`: no estimate yet, never),
/// given whether it is `paused` now. A lowest layer of unknown cost never pauses.
pub fn must_pause(layers: &[LayerSpec], budget_bps: Option<u64>, paused: bool) -> bool {
    let (Some(budget), Some(lowest)) = (budget_bps, layers.iter().min_by_key(|l| l.rank)) else {
        return false;
    };
    if lowest.bitrate_bps == 0 {
        return false;
    }
    let share = if paused { RESUME_AT } else { PAUSE_BELOW };
    (budget as f64) < lowest.bitrate_bps as f64 * share
}

/// When the lowest layer must pause whole ([`must_pause`]) but has `temporal_layers`:
/// the highest temporal layer whose share of it (`temporal::temporal_shares`, of
/// `lowest_bps`) fits `budget_bps`, or `None` (pause). The cap in effect, `current`,
/// stays while it fits [`PAUSE_BELOW`] of its share; a higher one must fit whole
/// ([`RESUME_AT`]), the same hysteresis as pausing.
pub(crate) fn temporal_fallback(
    lowest_bps: u64,
    budget_bps: u64,
    temporal_layers: u8,
    current: Option<u8>,
) -> Option<u8> {
    let shares = super::temporal::temporal_shares(temporal_layers);
    (0..shares.len().saturating_sub(1))
        .rev()
        .find(|&t| {
            let staying = current.is_some_and(|c| t as u8 <= c);
            let fit = if staying { PAUSE_BELOW } else { RESUME_AT };
            budget_bps as f64 >= lowest_bps as f64 * shares[t] * fit
        })
        .map(|t| t as u8)
}

/// How long a subscriber stays off a higher layer after its link dropped it back, at
/// first and at most. Each drop within [`UPGRADE_TRIAL`] of moving up doubles the hold.
const FIRST_HOLD: Duration = Duration::from_secs(2);
const LONGEST_HOLD: Duration = Duration::from_secs(60);
/// A move up that falls back within this long failed: the link only seemed to carry it.
const UPGRADE_TRIAL: Duration = Duration::from_secs(10);

/// Upgrades held back after the link failed one, with a hold that doubles each time it
/// fails again (as LiveKit's allocator backs off its probes).
///
/// Found through a coturn policed at 360 kbit/s: it counts each second's bytes and drops
/// what is over, so a short probe passes whole and the estimate reads the link as wide.
/// The selector moved up to a 640-pixel layer, the link dropped a seventh of it, the
/// estimate fell, it moved back down, and did so again every few seconds: 5 frames per
/// second in one run of four. Each move up costs a keyframe too, the largest burst there
/// is. A hold after a failed move up keeps the layer that flows until the link has shown,
/// for longer each time, that it carries more; on a link that really widens, the first
/// hold is 2 s.
///
/// The estimate alone finds a failed move up late: a delay-based estimator cannot see a
/// policer that drops without queueing (docs/sfu.md: it read a 360 kbit/s link as
/// 1.9 Mbit/s). The subscriber's receiver reports can: a move up followed by a report of
/// [`LOSSY`] or more is taken back at once ([`UpgradeBackoff::report_loss`]), and the
/// layer it came from is the most the subscriber gets until the hold ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeBackoff {
    /// When the last move up was, and the rank it left.
    last_up: Option<(Instant, u8)>,
    held_until: Option<Instant>,
    hold: Duration,
    /// The highest rank allowed while held, after a move up the link lost.
    cap: Option<u8>,
}

impl Default for UpgradeBackoff {
    fn default() -> Self {
        Self {
            last_up: None,
            held_until: None,
            hold: FIRST_HOLD,
            cap: None,
        }
    }
}

/// A receiver report's loss fraction from which a move up counts as failed (a link that
/// carries a layer loses a few percent at most; a policer over its rate drops a seventh
/// or more).
pub const LOSSY: f32 = 0.1;

impl UpgradeBackoff {
    /// The rank to send, given the selector's `chosen` one, the `previous` choice and the
    /// `ceiling` the subscriber's wishes allow. A move down for bandwidth (below both the
    /// previous choice and the ceiling) after a move up starts a hold: 2 s, doubled while
    /// each move up fails within 10 s. A move up waits the hold out. A move down because
    /// the subscriber asked for less, or before any move up, holds nothing.
    pub fn gate(
        &mut self,
        now: Instant,
        previous: Option<u8>,
        chosen: Option<u8>,
        ceiling: Option<u8>,
    ) -> Option<u8> {
        let held = self.held_until.is_some_and(|until| now < until);
        let chosen = match (held, self.cap) {
            (true, Some(cap)) => chosen.map(|rank| rank.min(cap)),
            _ => chosen,
        };
        let (Some(previous), Some(rank)) = (previous, chosen) else {
            return chosen;
        };
        if rank > previous {
            if held {
                return Some(previous);
            }
            self.last_up = Some((now, previous));
        } else if rank < previous
            && ceiling.is_some_and(|c| rank < c)
            && let Some((up, _)) = self.last_up
        {
            // Only a link that was moved up and then dropped back holds: the first
            // estimates, which bring the start layer down to what fits, do not.
            let failed_upgrade = now.saturating_duration_since(up) < UPGRADE_TRIAL;
            self.hold = if failed_upgrade {
                (self.hold * 2).min(LONGEST_HOLD)
            } else {
                FIRST_HOLD
            };
            self.held_until = Some(now + self.hold);
            self.cap = None;
        }
        chosen
    }

    /// A receiver report of `loss` (a fraction) arrived at `now`. Returns whether it
    /// takes back a move up: one made within 10 s, with [`LOSSY`] or more lost. The hold
    /// then doubles as for any failed move up, and the rank the move left is the most
    /// [`Self::gate`] lets through until it ends.
    pub fn report_loss(&mut self, now: Instant, loss: f32) -> bool {
        let Some((up, from)) = self.last_up else {
            return false;
        };
        if loss < LOSSY || now.saturating_duration_since(up) >= UPGRADE_TRIAL {
            return false;
        }
        self.hold = (self.hold * 2).min(LONGEST_HOLD);
        self.held_until = Some(now + self.hold);
        self.cap = Some(from);
        self.last_up = None;
        true
    }
}

#[cfg(test)]
#[path = "layers_test.rs"]
mod tests;
