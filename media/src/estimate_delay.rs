//! The delay-based half of the send-side estimate, after Google Congestion Control
//! (draft-ietf-rmcat-gcc-02) as libwebrtc runs it: packets grouped by send time, the
//! trend of their one-way delay variation, an overuse detector with an adaptive
//! threshold, and an additive-increase, multiplicative-decrease rate controller.
//!
//! The parameters are libwebrtc's defaults, so a Bedside sender backs off when a
//! Chromium sender would on the same link. Times are the caller's `Instant`s.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Packets sent within this span of a group's first belong to the group (a frame's
/// packets leave together and are judged together).
const GROUP_SPAN: Duration = Duration::from_millis(5);
/// Groups the trend line is fitted over.
const TREND_WINDOW: usize = 20;
/// Smoothing of the accumulated delay.
const SMOOTHING: f64 = 0.9;
/// The trend's gain before it is compared with the threshold.
const TREND_GAIN: f64 = 4.0;
/// The threshold's bounds, and its adaptation up and down (per millisecond).
const THRESHOLD_MIN: f64 = 6.0;
const THRESHOLD_MAX: f64 = 600.0;
const THRESHOLD_UP: f64 = 0.0087;
const THRESHOLD_DOWN: f64 = 0.039;
/// Overuse must last this long (in milliseconds) before it is signalled.
const OVERUSE_TIME_MS: f64 = 10.0;
/// A decrease takes the rate to this share of what the receiver acknowledged.
const DECREASE_FACTOR: f64 = 0.85;
/// Multiplicative increase per second while far from the link's known capacity.
const INCREASE_PER_SECOND: f64 = 1.08;
/// The rate never runs further ahead of what arrives than this (times the acknowledged
/// rate, plus [`THROUGHPUT_HEADROOM_BPS`]): an application-limited sender learns
/// nothing about the link above what it sends.
const THROUGHPUT_LIMIT: f64 = 1.5;
const THROUGHPUT_HEADROOM_BPS: f64 = 10_000.0;
/// After a decrease, the next waits this long (about a round trip), so one queue is
/// not paid for twice.
const DECREASE_INTERVAL: Duration = Duration::from_millis(200);
/// The time a rate change takes to show in the feedback (a round trip and the
/// feedback interval), for the additive increase near capacity.
const RESPONSE_TIME: Duration = Duration::from_millis(300);
/// How long a probe's result bounds a decrease.
const PROBED_HOLDS: Duration = Duration::from_secs(3);

/// What the delay trend says about the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Queues are building: send less.
    Overuse,
    /// Queues are draining: hold.
    Underuse,
    /// Neither.
    Normal,
}

/// A group of packets sent within [`GROUP_SPAN`].
#[derive(Debug, Clone, Copy)]
struct Group {
    first_sent: Instant,
    last_sent: Instant,
    last_arrival: Instant,
}

/// Trend line of the delay variation between packet groups, and the overuse detector.
#[derive(Debug)]
pub struct DelayTrend {
    current: Option<Group>,
    previous: Option<Group>,
    first_arrival: Option<Instant>,
    deltas: u32,
    accumulated_ms: f64,
    smoothed_ms: f64,
    window: VecDeque<(f64, f64)>,
    trend: f64,
    previous_trend: f64,
    threshold: f64,
    threshold_updated: Option<Instant>,
    overusing_ms: Option<f64>,
    overuse_count: u32,
    usage: Usage,
}

impl Default for DelayTrend {
    fn default() -> Self {
        Self {
            current: None,
            previous: None,
            first_arrival: None,
            deltas: 0,
            accumulated_ms: 0.0,
            smoothed_ms: 0.0,
            window: VecDeque::with_capacity(TREND_WINDOW + 1),
            trend: 0.0,
            previous_trend: 0.0,
            threshold: 12.5,
            threshold_updated: None,
            overusing_ms: None,
            overuse_count: 0,
            usage: Usage::Normal,
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn signed_ms(a: Instant, b: Instant) -> f64 {
    if a >= b { ms(a - b) } else { -ms(b - a) }
}

impl DelayTrend {
    /// Takes one acknowledged packet, in send order: sent at `sent`, arrived at `arrival`
    /// (the receiver's clock). Reordered packets (sent before the current group) are
    /// skipped.
    pub fn packet(&mut self, sent: Instant, arrival: Instant) {
        let Some(mut group) = self.current else {
            self.current = Some(Group {
                first_sent: sent,
                last_sent: sent,
                last_arrival: arrival,
            });
            return;
        };
        if sent < group.first_sent {
            return;
        }
        if sent - group.first_sent <= GROUP_SPAN {
            group.last_sent = group.last_sent.max(sent);
            group.last_arrival = group.last_arrival.max(arrival);
            self.current = Some(group);
            return;
        }
        if let Some(previous) = self.previous {
            let send_delta = signed_ms(group.last_sent, previous.last_sent);
            let arrival_delta = signed_ms(group.last_arrival, previous.last_arrival);
            self.delta(arrival_delta - send_delta, send_delta, group.last_arrival);
        }
        self.previous = Some(group);
        self.current = Some(Group {
            first_sent: sent,
            last_sent: sent,
            last_arrival: arrival,
        });
    }

    /// What the detector said last.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    fn delta(&mut self, delay_ms: f64, send_delta_ms: f64, arrival: Instant) {
        self.deltas = (self.deltas + 1).min(1000);
        let first = *self.first_arrival.get_or_insert(arrival);
        self.accumulated_ms += delay_ms;
        self.smoothed_ms = SMOOTHING * self.smoothed_ms + (1.0 - SMOOTHING) * self.accumulated_ms;
        self.window
            .push_back((ms(arrival - first), self.smoothed_ms));
        if self.window.len() > TREND_WINDOW {
            self.window.pop_front();
        }
        if self.window.len() == TREND_WINDOW
            && let Some(slope) = fit_slope(&self.window)
        {
            self.trend = slope;
        }
        self.detect(send_delta_ms, arrival);
    }

    fn detect(&mut self, send_delta_ms: f64, now: Instant) {
        if self.deltas < 2 {
            self.usage = Usage::Normal;
            return;
        }
        let modified = f64::from(self.deltas.min(60)) * self.trend * TREND_GAIN;
        if modified > self.threshold {
            let over = match self.overusing_ms {
                None => send_delta_ms / 2.0,
                Some(over) => over + send_delta_ms,
            };
            self.overusing_ms = Some(over);
            self.overuse_count += 1;
            if over > OVERUSE_TIME_MS && self.overuse_count > 1 && self.trend >= self.previous_trend
            {
                self.overusing_ms = Some(0.0);
                self.overuse_count = 0;
                self.usage = Usage::Overuse;
            }
        } else {
            self.overusing_ms = None;
            self.overuse_count = 0;
            self.usage = if modified < -self.threshold {
                Usage::Underuse
            } else {
                Usage::Normal
            };
        }
        self.previous_trend = self.trend;
        self.adapt_threshold(modified, now);
    }

    fn adapt_threshold(&mut self, modified: f64, now: Instant) {
        let last = *self.threshold_updated.get_or_insert(now);
        self.threshold_updated = Some(now);
        // A spike far above the threshold (a sudden route change) does not move it.
        if modified.abs() > self.threshold + 15.0 {
            return;
        }
        let k = if modified.abs() < self.threshold {
            THRESHOLD_DOWN
        } else {
            THRESHOLD_UP
        };
        let elapsed = ms(now.saturating_duration_since(last)).min(100.0);
        self.threshold += k * (modified.abs() - self.threshold) * elapsed;
        self.threshold = self.threshold.clamp(THRESHOLD_MIN, THRESHOLD_MAX);
    }
}

/// Least-squares slope of `(x, y)` points.
fn fit_slope(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    (den != 0.0).then_some(num / den)
}

/// The capacity the link showed at its overuses: a running mean of the acknowledged
/// rate at each, with its normalised variance (libwebrtc's link capacity estimator).
#[derive(Debug, Default, Clone, Copy)]
struct Capacity {
    mean_bps: Option<f64>,
    variance: f64,
}

impl Capacity {
    fn overuse_at(&mut self, acked_bps: f64) {
        let mean = match self.mean_bps {
            Some(mean) if (acked_bps - mean).abs() <= 3.0 * self.deviation(mean) => {
                0.95 * mean + 0.05 * acked_bps
            }
            _ => acked_bps,
        };
        let norm = mean.max(1.0);
        self.variance = (0.95 * self.variance + 0.05 * (mean - acked_bps).powi(2) / norm)
            .clamp(0.4 * 1000.0, 2.5 * 1000.0);
        self.mean_bps = Some(mean);
    }

    fn deviation(&self, mean: f64) -> f64 {
        (self.variance.max(400.0) * mean).sqrt()
    }

    /// Whether `rate` is beyond what the link has shown it carries.
    fn exceeded_by(&self, rate: f64) -> bool {
        self.mean_bps
            .is_some_and(|mean| rate > mean + 3.0 * self.deviation(mean))
    }
}

/// The additive-increase, multiplicative-decrease rate.
#[derive(Debug)]
pub struct AimdRate {
    rate_bps: f64,
    increasing: bool,
    changed_at: Option<Instant>,
    decreased_at: Option<Instant>,
    capacity: Capacity,
    /// The last probe's result and when it came.
    probed: Option<(f64, Instant)>,
}

impl AimdRate {
    /// Starts at `start_bps`.
    pub fn new(start_bps: u64) -> Self {
        Self {
            rate_bps: start_bps as f64,
            increasing: false,
            changed_at: None,
            decreased_at: None,
            capacity: Capacity::default(),
            probed: None,
        }
    }

    /// The rate now.
    pub fn rate_bps(&self) -> u64 {
        self.rate_bps as u64
    }

    /// Moves the rate by what the detector says, given the rate the receiver
    /// acknowledged (`None` until enough arrived to tell).
    pub fn update(&mut self, now: Instant, usage: Usage, acked_bps: Option<u64>) {
        let elapsed = self
            .changed_at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        self.changed_at = Some(now);
        let acked = acked_bps.map(|a| a as f64);
        match usage {
            Usage::Overuse => {
                self.increasing = false;
                if self
                    .decreased_at
                    .is_some_and(|at| now < at + DECREASE_INTERVAL)
                {
                    return;
                }
                let Some(acked) = acked else { return };
                let mut decreased = DECREASE_FACTOR * acked;
                // A sender that does not fill the link (an SFU forwarding one layer
                // while it probes for the next) is not cut below what a probe just
                // showed the link carries: the overuse is most likely the probe's own
                // queue. libwebrtc bounds its backoff by its link capacity estimate
                // the same way.
                if let Some((probed, at)) = self.probed
                    && now < at + PROBED_HOLDS
                {
                    decreased = decreased.max(DECREASE_FACTOR * probed.min(self.rate_bps));
                }
                if decreased > self.rate_bps
                    && let Some(mean) = self.capacity.mean_bps
                {
                    decreased = DECREASE_FACTOR * mean;
                }
                if decreased < self.rate_bps {
                    self.rate_bps = decreased;
                }
                self.capacity.overuse_at(acked);
                self.decreased_at = Some(now);
            }
            Usage::Underuse => self.increasing = false,
            Usage::Normal if !self.increasing => self.increasing = true,
            Usage::Normal => {
                if self.capacity.exceeded_by(self.rate_bps) {
                    self.capacity = Capacity::default();
                }
                let seconds = elapsed.as_secs_f64().min(1.0);
                let increase = if self.capacity.mean_bps.is_some() {
                    // Near the capacity it showed: about a packet per response time.
                    let packet_bits = 1_200.0 * 8.0;
                    (packet_bits / RESPONSE_TIME.as_secs_f64()).max(4_000.0) * seconds
                } else {
                    (self.rate_bps * (INCREASE_PER_SECOND.powf(seconds) - 1.0))
                        .max(1_000.0 * seconds)
                };
                let increased = self.rate_bps + increase;
                let limit =
                    acked.map_or(f64::MAX, |a| THROUGHPUT_LIMIT * a + THROUGHPUT_HEADROOM_BPS);
                if self.rate_bps < limit {
                    self.rate_bps = increased.min(limit);
                }
            }
        }
    }

    /// Raises the rate to `bps` if it is below: a probe at `now` showed the room.
    pub fn raise_to(&mut self, now: Instant, bps: u64) {
        self.rate_bps = self.rate_bps.max(bps as f64);
        self.probed = Some((bps as f64, now));
    }

    /// Lowers the rate to `bps` if it is above (the loss-based half decided so).
    pub fn limit_to(&mut self, bps: u64) {
        self.rate_bps = self.rate_bps.min(bps as f64);
    }
}
