//! The send path's pacer (a leaky bucket at 1.1 times the estimate, for a thin link)
//! and its probes (clusters of copies of the newest video packet, when layers are
//! wanted above the estimate), both run from the core's timer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bedside_media::estimate_probe::CLUSTER_PACKETS;
use str0m::media::Mid;

use super::super::core::CoreOutput;
use super::{
    DRAIN_WITHIN, FastSend, PACING_BURST, PACING_FACTOR_PERCENT, PROBE_PACKET_BYTES, ProbeRun, push,
};

impl FastSend {
    /// The pacer's rate, in bytes per second: 1.1 times the estimate, or faster when
    /// what is queued would otherwise wait longer than [`DRAIN_WITHIN`] (as libwebrtc's
    /// pacer does; releasing late packets all at once instead would burst into the
    /// link the pacer protects).
    pub(super) fn pace_bytes_per_sec(&self) -> i64 {
        let bps = self.sender.estimator.estimate_bps() * PACING_FACTOR_PERCENT / 100;
        let drain = self.queued_bytes as u64 * 1_000 / DRAIN_WITHIN.as_millis() as u64;
        (bps / 8).max(drain).max(1) as i64
    }

    /// Adds what the pacer earned since it last counted, up to one burst.
    pub(super) fn refill(&mut self, now: Instant) {
        let rate = self.pace_bytes_per_sec();
        let elapsed = now.saturating_duration_since(self.budget_at);
        let earned = (elapsed.as_micros() as i64).saturating_mul(rate) / 1_000_000;
        let burst = (PACING_BURST.as_micros() as i64 * rate / 1_000_000).max(2_400);
        self.budget = self.budget.saturating_add(earned).min(burst);
        self.budget_at = now;
    }

    /// When the pacer or a probe needs the next turn.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let pacer = self.queue.front().map(|_| {
            let rate = self.pace_bytes_per_sec();
            // Released while the budget is above zero: due when one more byte is earned.
            let owed = (1 - self.budget).max(0) as u64;
            self.budget_at + Duration::from_micros(owed * 1_000_000 / rate as u64)
        });
        let probe = self.probe.map(|p| p.next);
        pacer.into_iter().chain(probe).min()
    }

    /// Releases what the pacer allows by `now`, and a probe's due packets.
    pub(crate) fn on_timeout(&mut self, now: Instant, outputs: &mut VecDeque<CoreOutput>) {
        self.refill(now);
        while self.budget > 0 {
            let Some(queued) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= queued.payload.len();
            self.transmit(now, &queued.pending, &queued.payload, outputs);
        }
        while let Some(mut run) = self.probe.filter(|p| p.next <= now) {
            let Some(remote) = self.remote else {
                self.probe = None;
                break;
            };
            let mut sealed = Vec::with_capacity(PROBE_PACKET_BYTES + 64);
            let Some(size) = self.sender.probe(now, run.cluster, &mut sealed) else {
                self.probe = None;
                break;
            };
            push(outputs, remote, sealed, &mut self.sent);
            // The next packet leaves when this one's bits took their time at the
            // probe's rate (the copies' sizes vary with the layer copied).
            run.packets += 1;
            run.bytes_left -= size as i64;
            run.next += Duration::from_secs_f64(size as f64 * 8.0 / run.bps.max(1) as f64);
            let done = run.packets >= CLUSTER_PACKETS && run.bytes_left <= 0;
            self.probe = (!done).then_some(run);
        }
    }

    /// Drops what the pacer holds for section `mid`: its video was paused. On a link
    /// too thin for it the queue held seconds of it, and it went on trickling out, stale,
    /// after the subscriber was told it paused (the link kept paying for it, audio
    /// included). The subscriber sees a gap and a keyframe when the video resumes.
    pub(crate) fn drop_queued(&mut self, mid: Mid) -> usize {
        let before = self.queue.len();
        let mut dropped_bytes = 0;
        self.queue.retain(|queued| {
            let keep = queued.pending.mid != mid;
            if !keep {
                dropped_bytes += queued.payload.len();
            }
            keep
        });
        self.queued_bytes -= dropped_bytes;
        before - self.queue.len()
    }

    /// Starts a probe cluster when the estimate wants one.
    pub(super) fn maybe_probe(&mut self, now: Instant) {
        if self.probe.is_some() || self.wanted_bps == 0 {
            return;
        }
        let Some(probe) = self.sender.estimator.probe_due(now, self.wanted_bps) else {
            return;
        };
        let span = probe.span(PROBE_PACKET_BYTES);
        self.probe = Some(ProbeRun {
            cluster: probe.cluster,
            bps: probe.bps,
            bytes_left: (probe.bps as f64 * span.as_secs_f64() / 8.0) as i64,
            packets: 0,
            next: now,
        });
    }
}
