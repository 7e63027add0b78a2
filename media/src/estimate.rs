//! The send-side bandwidth estimate of one transport, from the transport-wide
//! congestion control feedback its receiver sends back: the brick the send side beside
//! str0m needs (str0m's estimator is internal; `str0m::bwe` only tells its result).
//!
//! [`LinkEstimator`] remembers what it sent by transport-wide sequence number, reads
//! the feedback (parsed by str0m's public `Twcc`), and combines two halves, as
//! libwebrtc's send-side estimation does:
//!
//! - delay-based (`estimate_delay`): the trend of the one-way delay variation, an
//!   overuse detector and an AIMD rate: it sees a queue building before anything is
//!   lost;
//! - loss-based: a policer drops without queueing, which no delay trend shows; more
//!   than 10% lost cuts the rate by half the loss, under 2% lets it grow again.
//!
//! Probing (`estimate_probe`): the estimate tells the sender when to send a short
//! cluster faster than it may ([`LinkEstimator::probe_due`]; padding where media does
//! not fill it), and jumps to the rate the cluster arrived at. Otherwise it never runs
//! more than half again ahead of what the receiver acknowledged.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use str0m::rtp::rtcp::Twcc;

use crate::estimate_delay::{AimdRate, DelayTrend, Usage};
use crate::estimate_probe::{Cluster, Probe, Prober};

/// A sender acknowledged at under this share of its estimate does not fill the link
/// (libwebrtc's "application-limited region"): only then is it probed periodically.
const APP_LIMITED_SHARE: f64 = 0.65;
/// Sent packets remembered (by transport-wide sequence number, modulo this).
const HISTORY: usize = 4_096;
/// The span of arrivals the acknowledged rate is measured over.
const ACKED_WINDOW: Duration = Duration::from_millis(500);
/// The longer span the delivered rate that bounds a loss-based cut is measured over:
/// a policer that counts each second's bytes lets a half-second window read anything
/// from nothing to twice what it carries.
const DELIVERED_WINDOW: Duration = Duration::from_millis(1_500);
/// Loss is judged over at least this many packets, or this long.
const LOSS_PACKETS: u32 = 40;
const LOSS_SPAN: Duration = Duration::from_millis(1_000);
/// Above this loss the rate is cut; below [`LOSS_LOW`] it may grow again.
const LOSS_HIGH: f64 = 0.10;
const LOSS_LOW: f64 = 0.02;
/// Between two loss-based cuts (a round trip and a feedback interval).
const LOSS_CUT_INTERVAL: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u64,
    at: Instant,
    size: u16,
    /// Reported received already (a later report of it changes nothing).
    acked: bool,
    /// Reported at all (lost or received).
    reported: bool,
    /// The probe cluster it belongs to.
    cluster: Option<u32>,
}

/// The acknowledged rate: bytes the receiver reported over the last `window` of its
/// arrival times.
#[derive(Debug)]
struct AckedRate {
    window: Duration,
    arrivals: VecDeque<(Instant, u16)>,
    bytes: u64,
    newest: Option<Instant>,
}

impl AckedRate {
    fn new(window: Duration) -> Self {
        Self {
            window,
            arrivals: VecDeque::new(),
            bytes: 0,
            newest: None,
        }
    }

    fn record(&mut self, arrival: Instant, size: u16) {
        self.arrivals.push_back((arrival, size));
        self.bytes += u64::from(size);
        let newest = self.newest.map_or(arrival, |n| n.max(arrival));
        self.newest = Some(newest);
        while let Some(&(oldest, size)) = self.arrivals.front() {
            if newest.saturating_duration_since(oldest) <= self.window {
                break;
            }
            self.arrivals.pop_front();
            self.bytes -= u64::from(size);
        }
    }

    /// Bits per second, once half a window's worth has arrived.
    fn bps(&self) -> Option<u64> {
        let first = self.arrivals.front()?.0;
        let last = self.arrivals.back()?.0;
        let span = last.saturating_duration_since(first);
        (span >= self.window / 2)
            .then(|| (self.bytes * 8 * 1_000_000) / span.as_micros().max(1) as u64)
    }
}

/// The send-side estimate of one transport (see the module docs).
#[derive(Debug)]
pub struct LinkEstimator {
    sent: Vec<Option<Sent>>,
    highest_sent: Option<u64>,
    /// Time zero for the feedback's reference times (only differences are used).
    epoch: Instant,
    trend: DelayTrend,
    rate: AimdRate,
    acked: AckedRate,
    delivered: AckedRate,
    loss_received: u32,
    loss_lost: u32,
    /// Every packet the feedback reported, received and lost, since the start.
    reported: (u64, u64),
    loss_since: Option<Instant>,
    loss_limit_bps: Option<f64>,
    loss_cut_at: Option<Instant>,
    loss_checked_at: Option<Instant>,
    last_loss: f64,
    min_bps: u64,
    max_bps: u64,
    start_bps: u64,
    prober: Prober,
    clusters: Vec<Cluster>,
}

impl LinkEstimator {
    /// An estimate that starts at `start_bps` and stays within `min_bps..=max_bps`.
    pub fn new(now: Instant, start_bps: u64, min_bps: u64, max_bps: u64) -> Self {
        Self {
            sent: vec![None; HISTORY],
            highest_sent: None,
            epoch: now,
            trend: DelayTrend::default(),
            rate: AimdRate::new(start_bps.clamp(min_bps, max_bps)),
            acked: AckedRate::new(ACKED_WINDOW),
            delivered: AckedRate::new(DELIVERED_WINDOW),
            loss_received: 0,
            loss_lost: 0,
            reported: (0, 0),
            loss_since: None,
            loss_limit_bps: None,
            loss_cut_at: None,
            loss_checked_at: None,
            last_loss: 0.0,
            min_bps,
            max_bps,
            start_bps,
            prober: Prober::new(),
            clusters: Vec::new(),
        }
    }

    /// Records that the packet with extended transport-wide sequence number `seq`, of
    /// `size` bytes on the wire, left `at`.
    pub fn sent(&mut self, seq: u64, at: Instant, size: usize) {
        self.record_sent(seq, at, size, None);
    }

    /// Like [`LinkEstimator::sent`], for a packet of the probe `cluster`.
    pub fn sent_probe(&mut self, seq: u64, at: Instant, size: usize, cluster: u32) {
        self.record_sent(seq, at, size, Some(cluster));
    }

    fn record_sent(&mut self, seq: u64, at: Instant, size: usize, cluster: Option<u32>) {
        self.highest_sent = Some(self.highest_sent.map_or(seq, |h| h.max(seq)));
        let size = size.min(usize::from(u16::MAX)) as u16;
        let sent = Sent {
            seq,
            at,
            size,
            acked: false,
            reported: false,
            cluster,
        };
        self.sent[seq as usize % HISTORY] = Some(sent);
        if let Some(id) = cluster
            && let Some(c) = self.clusters.iter_mut().find(|c| c.id == id)
        {
            c.left(at);
        }
    }

    /// The probe to send now, if any, for a sender that wants `wanted_bps` (see
    /// `estimate_probe`): its packets go to [`LinkEstimator::sent_probe`].
    pub fn probe_due(&mut self, now: Instant, wanted_bps: u64) -> Option<Probe> {
        let estimate = self.estimate_bps();
        // A sender that fills most of its estimate shows the link's room itself (the
        // rate grows with what is acknowledged); probing it again only queues (see
        // `Prober::due`).
        let app_limited = self
            .acked
            .bps()
            .is_none_or(|acked| (acked as f64) < APP_LIMITED_SHARE * estimate as f64);
        // Not above a loss-based limit (libwebrtc's `limit_probe_target_rate_to_loss_bwe`):
        // its result could not raise the estimate past it, and on a policed link the
        // probes themselves, passed whole and followed by probes twice as high, used up
        // what the policer allowed and the media behind them was dropped.
        let loss_limit = self.loss_limit_bps.map_or(u64::MAX, |l| l as u64);
        let wanted = wanted_bps.min(self.max_bps).min(loss_limit);
        let probe = self
            .prober
            .due(now, self.start_bps, estimate, wanted, app_limited)?;
        if self.clusters.len() >= 4 {
            self.clusters.remove(0);
        }
        self.clusters.push(Cluster::new(probe));
        Some(probe)
    }

    /// Takes one transport-wide feedback packet received `now`.
    pub fn feedback(&mut self, now: Instant, twcc: Twcc) {
        let Some(highest) = self.highest_sent else {
            return;
        };
        let reports = twcc.into_iter(self.epoch, highest.into());
        self.reports(now, reports.map(|(seq, _, arrival)| (*seq, arrival)));
    }

    /// Takes the statuses of one feedback: each extended sequence number with its
    /// arrival on the receiver's clock, or `None` if it was reported not received.
    /// Numbers never sent, or sent too long ago to be remembered, are ignored.
    pub fn reports(
        &mut self,
        now: Instant,
        statuses: impl IntoIterator<Item = (u64, Option<Instant>)>,
    ) {
        let mut any = false;
        let mut newest_sent: Option<Instant> = None;
        for (seq, arrival) in statuses {
            let Some(sent) = self.sent[seq as usize % HISTORY]
                .as_mut()
                .filter(|s| s.seq == seq)
            else {
                continue;
            };
            // Loss is judged on what was sent since the last cut: what left before it
            // left at the rate that was cut, and is still being reported a round trip
            // later. Counting it cut again and again for one overshoot (a weak policed
            // link fell from 1.4 Mbit/s to 98 kbit/s in four cuts, a quarter of what it
            // carries).
            let judged = self.loss_cut_at.is_none_or(|cut| sent.at >= cut);
            match arrival {
                Some(arrival) if !sent.acked => {
                    if !sent.reported {
                        self.reported.0 += 1;
                    } else {
                        // Reported lost before, received after all.
                        self.loss_lost -= u32::from(judged && self.loss_lost > 0);
                        self.reported = (self.reported.0 + 1, self.reported.1.saturating_sub(1));
                    }
                    self.loss_received += u32::from(judged);
                    sent.acked = true;
                    sent.reported = true;
                    let (at, size, cluster) = (sent.at, sent.size, sent.cluster);
                    self.acked.record(arrival, size);
                    self.delivered.record(arrival, size);
                    self.trend.packet(at, arrival);
                    newest_sent = Some(newest_sent.map_or(at, |n| n.max(at)));
                    if let Some(c) = self.clusters.iter_mut().find(|c| Some(c.id) == cluster) {
                        c.acked(at, arrival, size);
                    }
                    any = true;
                }
                None if !sent.reported => {
                    sent.reported = true;
                    self.loss_lost += u32::from(judged);
                    self.reported.1 += 1;
                    any = true;
                }
                _ => {}
            }
        }
        if !any {
            return;
        }
        if self.loss_received + self.loss_lost > 0 {
            self.loss_since.get_or_insert(now);
        }
        self.rate.update(now, self.trend.usage(), self.acked.bps());
        if let Some(newest) = newest_sent {
            self.probe_results(now, newest);
        }
        self.judge_loss(now);
        if let Some(limit) = self.loss_limit_bps {
            self.rate.limit_to(limit as u64);
        }
    }

    /// Clusters whose last packet is older than the newest acknowledged are measured:
    /// the estimate jumps to what one showed, if that is higher.
    fn probe_results(&mut self, now: Instant, newest_sent: Instant) {
        let prober = &mut self.prober;
        let rate = &mut self.rate;
        self.clusters.retain(|cluster| {
            if !cluster.sent_before(newest_sent) {
                return true;
            }
            if let Some(bps) = cluster.result_bps() {
                prober.result(cluster.id, bps);
                rate.raise_to(now, bps);
            }
            false
        });
    }

    fn judge_loss(&mut self, now: Instant) {
        let total = self.loss_received + self.loss_lost;
        let since = self.loss_since.unwrap_or(now);
        if total == 0 || total < LOSS_PACKETS && now.saturating_duration_since(since) < LOSS_SPAN {
            return;
        }
        let loss = f64::from(self.loss_lost) / f64::from(total.max(1));
        let elapsed = self
            .loss_checked_at
            .map_or(0.0, |at| now.saturating_duration_since(at).as_secs_f64());
        self.loss_checked_at = Some(now);
        self.last_loss = loss;
        (self.loss_received, self.loss_lost, self.loss_since) = (0, 0, None);
        let current = self.rate.rate_bps() as f64;
        if loss > LOSS_HIGH {
            if self
                .loss_cut_at
                .is_none_or(|at| now >= at + LOSS_CUT_INTERVAL)
            {
                let base = self.loss_limit_bps.map_or(current, |l| l.min(current));
                let cut = base * (1.0 - 0.5 * loss);
                // Losing this much, the link carried what it delivered: a cut from an
                // estimate far above what was sent (a sender that sends less than its
                // estimate, into a full queue the delay trend reads as steady) changed
                // nothing for seconds.
                let delivered = self.delivered.bps().map_or(cut, |d| d as f64);
                self.loss_limit_bps = Some(cut.min(delivered).max(self.min_bps as f64));
                self.loss_cut_at = Some(now);
            }
        } else if loss < LOSS_LOW {
            // Growing again as a rate would, and in force while it grows: a policer
            // lets a short probe through whole, so a probe's result above a limit
            // that was dropped once it no longer limited sent the link straight back
            // into heavy loss (a weak policed link in the browser suite, docs/sfu.md).
            // Released only once it could no longer limit anything.
            if let Some(limit) = self.loss_limit_bps {
                let grown = limit * 1.08f64.powf(elapsed.min(1.0)) + 1_000.0;
                self.loss_limit_bps = (grown < self.max_bps as f64).then_some(grown);
            }
        }
    }

    /// Every packet the feedback reported so far: received, and lost (a packet
    /// reported lost and then received counts as received).
    pub fn reported(&self) -> (u64, u64) {
        self.reported
    }

    /// The estimate now, in bits per second.
    pub fn estimate_bps(&self) -> u64 {
        self.rate.rate_bps().clamp(self.min_bps, self.max_bps)
    }

    /// What the receiver acknowledged over the last half second, in bits per second.
    pub fn acked_bps(&self) -> Option<u64> {
        self.acked.bps()
    }

    /// The share lost over the last judged span (0 to 1).
    pub fn loss(&self) -> f64 {
        self.last_loss
    }

    /// What the delay trend says now.
    pub fn usage(&self) -> Usage {
        self.trend.usage()
    }
}

#[cfg(test)]
#[path = "estimate_test.rs"]
mod tests;
