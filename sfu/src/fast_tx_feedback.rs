//! What the send path beside str0m reads in the subscriber's RTCP (str0m reads it as
//! well): transport-wide feedback for the estimate, NACKs answered from the packets
//! kept, keyframe requests counted; and the counters str0m no longer has for these
//! streams.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use str0m::media::Mid;
use str0m::net::Protocol;
use str0m::rtp::rtcp::Rtcp;

use super::super::core::CoreOutput;
use super::{FastSend, TELL_CHANGE_PERCENT, TELL_EVERY, push};

impl FastSend {
    /// Reads one SRTCP packet from the subscriber: its transport-wide feedback feeds
    /// the estimate, its NACKs are answered. Returns the estimate when layer selection
    /// should hear it, and whether str0m must read the packet too.
    ///
    /// str0m needs what it reads for keyframe requests, receiver reports (the round
    /// trip) and sender reports, not transport-wide feedback: its own estimator is off
    /// for peers sending beside it (`new_rtc`). A packet of that feedback alone (a
    /// browser sends it on its own, reduced-size, 10 to 20 times a second) is kept from
    /// str0m, which would decrypt it and run a poll for nothing.
    pub(crate) fn read_rtcp(
        &mut self,
        now: Instant,
        remote: (Protocol, SocketAddr, SocketAddr),
        data: &[u8],
        outputs: &mut VecDeque<CoreOutput>,
    ) -> (Option<u64>, bool) {
        let mut plain = std::mem::take(&mut self.plain);
        if self.rtcp_in.unprotect(data, &mut plain).is_err() {
            self.plain = plain;
            return (None, true);
        }
        self.remote = Some(remote);
        let mut fed = false;
        let mut feedback_only = true;
        let mut rest = &plain[..];
        while rest.len() >= 4 {
            let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
            let Some(packet) = rest.get(..len) else {
                feedback_only = false;
                break;
            };
            let parsed = Rtcp::try_from(packet);
            feedback_only &= matches!(parsed, Ok(Rtcp::Twcc(_)));
            match parsed {
                Ok(Rtcp::Twcc(twcc)) => {
                    self.sender.transport_feedback(now, twcc);
                    fed = true;
                }
                Ok(Rtcp::Pli(pli)) => self.count(*pli.ssrc, false),
                Ok(Rtcp::Fir(fir)) => {
                    for entry in fir.reports.iter() {
                        self.count(*entry.ssrc, false);
                    }
                }
                Ok(Rtcp::Nack(nack)) => {
                    self.count(*nack.ssrc, true);
                    let mut repairs = std::mem::take(&mut self.repairs);
                    self.sender.repair(now, &nack, self.rtt, &mut repairs);
                    for sealed in repairs.drain(..) {
                        // Repairs skip the pacer's queue (they are late already) but
                        // use the link: the media after them waits its turn.
                        self.charge(now, sealed.len());
                        push(outputs, remote, sealed, &mut self.sent);
                    }
                    self.repairs = repairs;
                }
                _ => {}
            }
            rest = &rest[len..];
        }
        let for_str0m = !(fed && feedback_only && rest.is_empty());
        self.plain = plain;
        if !for_str0m {
            self.feedback_only += 1;
        }
        if !fed {
            return (None, for_str0m);
        }
        self.maybe_probe(now);
        let estimate = self.sender.estimator.estimate_bps();
        let tell = match self.told {
            None => true,
            Some((told, at)) => {
                estimate.abs_diff(told) * 100 > told * TELL_CHANGE_PERCENT
                    || now.saturating_duration_since(at) >= TELL_EVERY
            }
        };
        if tell {
            self.told = Some((estimate, now));
        }
        (tell.then_some(estimate), for_str0m)
    }

    /// For the debug log: the acknowledged rate, the estimate's last loss, the
    /// packets the pacer holds, and what was sent.
    pub(crate) fn state(&self) -> (Option<u64>, f64, usize, (u64, u64)) {
        let estimator = &self.sender.estimator;
        (
            estimator.acked_bps(),
            estimator.loss(),
            self.queue.len(),
            self.sent,
        )
    }

    /// Counts a NACK (or a keyframe request) for the section sending `ssrc`.
    fn count(&mut self, ssrc: u32, nack: bool) {
        if let Some(section) = self.sections.values_mut().find(|s| s.ssrc == ssrc) {
            match nack {
                true => section.nacks += 1,
                false => section.keyframe_requests += 1,
            }
        }
    }

    /// Each section's egress counters (packets, payload bytes, NACKs, keyframe
    /// requests), which str0m, having sent nothing on them, no longer reports.
    pub(crate) fn egress_counts(&self, now: Instant) -> Vec<(Mid, [u64; 4])> {
        self.sections
            .iter()
            .map(|(mid, section)| {
                let (packets, bytes) = self
                    .sender
                    .sender_info(now, section.ssrc)
                    .map_or((0, 0), |i| (u64::from(i.packets), u64::from(i.octets)));
                (
                    *mid,
                    [packets, bytes, section.nacks, section.keyframe_requests],
                )
            })
            .collect()
    }

    /// The share of packets the subscriber's feedback reported lost since the last
    /// call (str0m's receiver-report loss, which it no longer has), `None` when none
    /// were reported.
    pub(crate) fn take_loss(&mut self) -> Option<f32> {
        let (received, lost) = self.sender.estimator.reported();
        let (was_received, was_lost) = std::mem::replace(&mut self.reported, (received, lost));
        let (received, lost) = (received - was_received, lost.saturating_sub(was_lost));
        (received + lost > 0).then(|| lost as f32 / (received + lost) as f32)
    }
}
