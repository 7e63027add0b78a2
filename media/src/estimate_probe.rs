//! Probing: a sender that sends only what its estimate allows never learns of room
//! above it, and GCC's increase of 8% a second takes half a minute from 300 kbit/s to
//! 2.5 Mbit/s. So, as libwebrtc's prober does, the sender sends short clusters at a
//! higher rate (padding if media does not fill them): the rate they arrive at shows
//! what the link carries, and the estimate jumps to it.
//!
//! [`Prober`] says when to probe and how fast; [`Cluster`] measures one cluster from
//! the feedback.

use std::time::{Duration, Instant};

/// A cluster lasts at least this long and holds at least [`CLUSTER_PACKETS`].
pub const CLUSTER_SPAN: Duration = Duration::from_millis(15);
pub const CLUSTER_PACKETS: u32 = 5;
/// The first probes, as multiples of the start rate.
const FIRST_PROBES: [f64; 2] = [3.0, 6.0];
/// A probe that arrived at this share of its rate or more was not limited by the
/// link: probe again, twice as high.
const FURTHER_PROBE_SHARE: f64 = 0.7;
/// Probing again while below what is wanted, at twice the estimate, this often.
const PERIODIC_PROBE: Duration = Duration::from_secs(5);
/// A cluster's result is this share of the rate it arrived at.
const RESULT_SHARE: f64 = 0.95;

/// A probe to send: `packets` at `bps` from now on, marked with `cluster`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// The cluster's number, to pass to `LinkEstimator::sent_probe`.
    pub cluster: u32,
    /// The rate to send it at.
    pub bps: u64,
}

impl Probe {
    /// How long the cluster runs at its rate, for `packet_size` bytes per packet.
    pub fn span(&self, packet_size: usize) -> Duration {
        let packets = CLUSTER_PACKETS as f64 * packet_size as f64 * 8.0;
        CLUSTER_SPAN.max(Duration::from_secs_f64(packets / self.bps.max(1) as f64))
    }
}

/// One cluster's acknowledged packets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cluster {
    pub(crate) id: u32,
    packets: u32,
    bytes: u64,
    first_size: u64,
    last_size: u64,
    sent: Option<(Instant, Instant)>,
    arrived: Option<(Instant, Instant)>,
    /// When its last packet left, acknowledged or not.
    last_left: Option<Instant>,
}

impl Cluster {
    pub(crate) fn new(probe: Probe) -> Self {
        Self {
            id: probe.cluster,
            packets: 0,
            bytes: 0,
            first_size: 0,
            last_size: 0,
            sent: None,
            arrived: None,
            last_left: None,
        }
    }

    /// One of its packets, sent `sent`, arrived `arrival`.
    pub(crate) fn acked(&mut self, sent: Instant, arrival: Instant, size: u16) {
        let size = u64::from(size);
        self.packets += 1;
        self.bytes += size;
        self.sent = Some(match self.sent {
            None => {
                self.first_size = size;
                (sent, sent)
            }
            Some((first, last)) => (first.min(sent), last.max(sent)),
        });
        if self.sent.is_some_and(|(_, last)| last == sent) {
            self.last_size = size;
        }
        self.arrived = Some(match self.arrived {
            None => (arrival, arrival),
            Some((first, last)) => (first.min(arrival), last.max(arrival)),
        });
    }

    /// One of its packets left at `at`.
    pub(crate) fn left(&mut self, at: Instant) {
        self.last_left = Some(self.last_left.map_or(at, |last| last.max(at)));
    }

    /// Whether all of it that was sent left before `at` (a packet sent after it was
    /// acknowledged, so the feedback on the cluster is complete). Judged by the last
    /// packet sent, not the last acknowledged: media sent between its packets is
    /// acknowledged first, and a cluster judged then has too few packets to tell.
    pub(crate) fn sent_before(&self, at: Instant) -> bool {
        self.sent.is_some() && self.last_left.is_some_and(|last| last < at)
    }

    /// What it measured, once enough of it arrived: the lower of the rates it left
    /// and arrived at (a link narrower than the probe spreads it out).
    pub(crate) fn result_bps(&self) -> Option<u64> {
        let ((s0, s1), (a0, a1)) = (self.sent?, self.arrived?);
        if self.packets < CLUSTER_PACKETS {
            return None;
        }
        let send_span = (s1 - s0).as_secs_f64();
        let arrival_span = (a1 - a0).as_secs_f64();
        if send_span <= 0.0 || arrival_span <= 0.0 {
            return None;
        }
        let send = (self.bytes - self.last_size) as f64 * 8.0 / send_span;
        let arrival = (self.bytes - self.first_size) as f64 * 8.0 / arrival_span;
        Some((send.min(arrival) * RESULT_SHARE) as u64)
    }
}

/// When to probe, and how fast.
#[derive(Debug)]
pub struct Prober {
    next_cluster: u32,
    first: usize,
    /// The last probe's rate and whether its result is in.
    last: Option<(Probe, Option<u64>)>,
    last_at: Option<Instant>,
}

impl Prober {
    pub(crate) fn new() -> Self {
        Self {
            next_cluster: 1,
            first: 0,
            last: None,
            last_at: None,
        }
    }

    /// The probe to send now, if any, for an estimate of `estimate_bps` and a sender
    /// that wants `wanted_bps`: the first probes at 3 and 6 times the start; one twice
    /// as high right after a probe the link did not limit; every 5 s while the
    /// estimate is below what is wanted and the sender does not fill it
    /// (`app_limited`, libwebrtc's ALR probing: a sender near its estimate shows the
    /// room itself, and a probe above a full link only fills its queue).
    pub(crate) fn due(
        &mut self,
        now: Instant,
        start_bps: u64,
        estimate_bps: u64,
        wanted_bps: u64,
        app_limited: bool,
    ) -> Option<Probe> {
        if estimate_bps >= wanted_bps {
            return None;
        }
        let waiting = matches!(self.last, Some((_, None)));
        let bps = if self.first < FIRST_PROBES.len() {
            (start_bps as f64 * FIRST_PROBES[self.first]) as u64
        } else if waiting
            && self
                .last_at
                .is_some_and(|at| now < at + Duration::from_secs(1))
        {
            return None;
        } else if let Some((probe, Some(result))) = self.last
            && result as f64 >= FURTHER_PROBE_SHARE * probe.bps as f64 * RESULT_SHARE
        {
            probe.bps * 2
        } else if app_limited && self.last_at.is_none_or(|at| now >= at + PERIODIC_PROBE) {
            estimate_bps * 2
        } else {
            return None;
        };
        self.first += 1;
        let probe = Probe {
            cluster: self.next_cluster,
            bps: bps.min(wanted_bps.saturating_mul(2)),
        };
        self.next_cluster = self.next_cluster.wrapping_add(1).max(1);
        self.last = Some((probe, None));
        self.last_at = Some(now);
        Some(probe)
    }

    /// A cluster's result came in.
    pub(crate) fn result(&mut self, cluster: u32, bps: u64) {
        if let Some((probe, result)) = self.last.as_mut()
            && probe.cluster == cluster
        {
            *result = Some(bps);
        }
    }
}
