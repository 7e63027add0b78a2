//! The sending end of one transport beside str0m, sans-IO: every RTP packet that
//! leaves on it gets its transport-wide sequence number here, is protected, and is
//! counted by the send-side estimate; video is kept for a while so a receiver's NACK
//! is answered with a retransmission on the stream's RTX SSRC (RFC 4588); and the
//! sender reports of these streams are written here, from the packets that really left.
//!
//! Why one type for all of it: the transport-wide sequence space is one per transport
//! (docs/sfu.md, "The send side beside str0m"), so media, repairs and probes must draw
//! from one counter, and the estimate must see each of them. str0m's own sender reports
//! cannot be used for these streams: str0m times them from the last packet written to
//! it, and a stream whose packets all left beside it would report RTP time 0.
//!
//! The load generator sends through it; the SFU's subscriber side is next.

use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::rtp::rtcp::{Nack, Twcc};

use crate::estimate::LinkEstimator;
use crate::repair_budget::RepairBudget;
use crate::rtp::RtpHeader;
use crate::srtcp::RtcpProtector;
use crate::srtp::{ProtectError, RtpProtector};

/// Video packets kept per stream for repairs: about 2 s of a 720p layer.
const KEPT_PER_STREAM: usize = 512;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;
/// RTCP packet type of a sender report.
const SENDER_REPORT: u8 = 200;

/// One stream this transport sends.
#[derive(Debug, Clone)]
pub struct StreamSetup {
    /// Its SSRC.
    pub ssrc: u32,
    /// Its RTP clock rate (48,000 for Opus, 90,000 for video).
    pub clock_hz: u32,
    /// Where its retransmissions go, if the receiver negotiated RTX for it. Only a
    /// stream with a repair stream keeps its packets.
    pub repair: Option<RepairSetup>,
}

/// A stream's retransmission stream (RFC 4588, SSRC-multiplexed).
#[derive(Debug, Clone)]
pub struct RepairSetup {
    /// The RTX SSRC.
    pub ssrc: u32,
    /// The RTX payload type (its `apt` the original's).
    pub payload_type: u8,
    /// The one-byte extensions every retransmission carries (the `mid`, and the
    /// repaired `rid` for a simulcast layer), besides the transport-wide number.
    pub extensions: Vec<(u8, Vec<u8>)>,
    /// Its first packet counter: 0 on a fresh stream, or past what another writer
    /// already sent on it (a receiver refuses a sequence number it has seen).
    pub first_index: u64,
}

/// One packet to send.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Its stream's SSRC (one given to [`RtpSender::add_stream`]).
    pub ssrc: u32,
    /// The payload type.
    pub payload_type: u8,
    /// The stream's packet counter: the low 16 bits the sequence number, the rest the
    /// SRTP rollover counter.
    pub index: u64,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// A frame's last packet.
    pub marker: bool,
    /// One-byte header extensions other than the transport-wide number, which this
    /// sender adds.
    pub extensions: &'a [(u8, &'a [u8])],
    /// The payload, shared with every other transport that sends it.
    pub payload: &'a Arc<[u8]>,
    /// Bytes that take the place of the payload's first ones on this transport (a
    /// codec descriptor rewritten for this receiver: VP8's picture ids after a layer
    /// switch), at most [`MAX_HEAD`]; empty for none. The shared payload stays as it
    /// is.
    pub head: &'a [u8],
}

/// The most bytes [`Outgoing::head`] replaces.
pub const MAX_HEAD: usize = 8;

/// Why a packet was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// Its SSRC was never added.
    UnknownStream,
    /// Protection failed (a header past the packet).
    Protect(ProtectError),
}

/// A packet kept for repairs.
#[derive(Debug, Clone)]
struct Kept {
    index: u64,
    timestamp: u32,
    marker: bool,
    payload: Arc<[u8]>,
    head: [u8; MAX_HEAD],
    head_len: u8,
    /// When it last left (first sent or repaired): one NACK per round trip is answered.
    last_sent: Instant,
}

#[derive(Debug)]
struct SendStream {
    setup: StreamSetup,
    packets: u32,
    octets: u32,
    /// The last packet's RTP time and when it left, for the sender report's RTP time.
    last: Option<(u32, Instant)>,
    kept: Vec<Option<Kept>>,
    /// The repair stream's packet counter.
    repair_index: u64,
}

/// The sending end of one transport (see the module docs).
#[derive(Debug)]
pub struct RtpSender {
    rtp: RtpProtector,
    rtcp: RtcpProtector,
    twcc_id: Option<u8>,
    next_twcc: u64,
    /// The send-side estimate, fed by [`RtpSender::transport_feedback`].
    pub estimator: LinkEstimator,
    streams: Vec<SendStream>,
    /// Bytes sent, protected, as on the wire (media and repairs).
    pub sent_bytes: u64,
    plain: Vec<u8>,
    repair_budget: RepairBudget,
}

impl RtpSender {
    /// A sender protecting with `rtp` and `rtcp`, numbering packets in the
    /// transport-wide extension `twcc_id` (none: no number, and no estimate input).
    pub fn new(
        rtp: RtpProtector,
        rtcp: RtcpProtector,
        twcc_id: Option<u8>,
        estimator: LinkEstimator,
    ) -> Self {
        Self {
            rtp,
            rtcp,
            twcc_id,
            next_twcc: 0,
            estimator,
            streams: Vec::new(),
            sent_bytes: 0,
            plain: Vec::with_capacity(1_500),
            repair_budget: RepairBudget::default(),
        }
    }

    /// Adds a stream (a second setup for the same SSRC replaces the first).
    pub fn add_stream(&mut self, setup: StreamSetup) {
        self.streams.retain(|s| s.setup.ssrc != setup.ssrc);
        let kept = if setup.repair.is_some() {
            vec![None; KEPT_PER_STREAM]
        } else {
            Vec::new()
        };
        let repair_index = setup.repair.as_ref().map_or(0, |r| r.first_index);
        self.streams.push(SendStream {
            setup,
            packets: 0,
            octets: 0,
            last: None,
            kept,
            repair_index,
        });
    }

    /// Writes and protects `packet`, appending the SRTP packet to `out`.
    pub fn send(
        &mut self,
        now: Instant,
        packet: &Outgoing<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), SendError> {
        self.send_in_cluster(now, packet, None, out)
    }

    /// Like [`RtpSender::send`], for a packet that leaves while probe `cluster` runs:
    /// it counts for the probe (as libwebrtc's pacer counts the media it sends during
    /// a cluster), so the probe measures the whole rate on the link, not only its own
    /// copies.
    pub fn send_in_cluster(
        &mut self,
        now: Instant,
        packet: &Outgoing<'_>,
        cluster: Option<u32>,
        out: &mut Vec<u8>,
    ) -> Result<(), SendError> {
        let at = self
            .streams
            .iter()
            .position(|s| s.setup.ssrc == packet.ssrc)
            .ok_or(SendError::UnknownStream)?;
        self.seal(now, packet, None, cluster, out)?;
        let stream = &mut self.streams[at];
        stream.packets = stream.packets.wrapping_add(1);
        stream.octets = stream.octets.wrapping_add(packet.payload.len() as u32);
        stream.last = Some((packet.timestamp, now));
        if !stream.kept.is_empty() {
            let mut head = [0u8; MAX_HEAD];
            let head_len = packet.head.len().min(MAX_HEAD);
            head[..head_len].copy_from_slice(&packet.head[..head_len]);
            stream.kept[packet.index as usize % KEPT_PER_STREAM] = Some(Kept {
                index: packet.index,
                timestamp: packet.timestamp,
                marker: packet.marker,
                payload: packet.payload.clone(),
                head,
                head_len: head_len as u8,
                last_sent: now,
            });
        }
        Ok(())
    }

    /// Writes the header (with the next transport-wide number) and payload, protects
    /// them into `out`, and tells the estimate. `osn` is a repair's original sequence
    /// number, which leads its payload; `cluster` the probe a packet belongs to.
    fn seal(
        &mut self,
        now: Instant,
        packet: &Outgoing<'_>,
        osn: Option<u16>,
        cluster: Option<u32>,
        out: &mut Vec<u8>,
    ) -> Result<(), SendError> {
        let seq = self.next_twcc;
        let twcc = (seq as u16).to_be_bytes();
        let mut extensions: [(u8, &[u8]); 8] = [(0, &[]); 8];
        let mut count = 0;
        for extension in packet
            .extensions
            .iter()
            .copied()
            .chain(self.twcc_id.map(|id| (id, &twcc[..])))
            .take(extensions.len())
        {
            extensions[count] = extension;
            count += 1;
        }
        self.plain.clear();
        let header_len = RtpHeader {
            marker: packet.marker,
            payload_type: packet.payload_type,
            sequence: packet.index as u16,
            timestamp: packet.timestamp,
            ssrc: packet.ssrc,
            extensions: &extensions[..count],
        }
        .write(&mut self.plain);
        let head = &packet.head[..packet.head.len().min(MAX_HEAD).min(packet.payload.len())];
        let start = out.len();
        let sealed = if osn.is_none() && head.is_empty() {
            // The payload as it came (most forwarded packets): sealed from the shared
            // buffer, behind the header alone.
            self.rtp
                .protect_parts(&self.plain, packet.payload, packet.index, out)
        } else {
            if let Some(osn) = osn {
                self.plain.extend_from_slice(&osn.to_be_bytes());
            }
            self.plain.extend_from_slice(head);
            self.plain.extend_from_slice(&packet.payload[head.len()..]);
            self.rtp.protect(&self.plain, header_len, packet.index, out)
        };
        sealed.map_err(SendError::Protect)?;
        let size = out.len() - start;
        self.sent_bytes += size as u64;
        if self.twcc_id.is_some() {
            self.next_twcc += 1;
            match cluster {
                Some(cluster) => self.estimator.sent_probe(seq, now, size, cluster),
                None => self.estimator.sent(seq, now, size),
            }
        }
        Ok(())
    }

    /// Feeds the receiver's transport-wide feedback to the estimate.
    pub fn transport_feedback(&mut self, now: Instant, feedback: Twcc) {
        self.estimator.feedback(now, feedback);
    }

    /// Answers a NACK: each packet it names that is still kept, and did not already
    /// leave within `rtt` (a repeated NACK while the repair is on its way), is sent
    /// again on the stream's repair stream, one SRTP packet appended to `out` each,
    /// while repairs stay within their share of the estimate (`repair_budget`).
    /// Returns how many were repaired.
    pub fn repair(
        &mut self,
        now: Instant,
        nack: &Nack,
        rtt: Duration,
        out: &mut Vec<Vec<u8>>,
    ) -> usize {
        let ssrc = *nack.ssrc;
        let Some(at) = self.streams.iter().position(|s| s.setup.ssrc == ssrc) else {
            return 0;
        };
        let mut repaired = 0;
        for entry in nack.reports.iter() {
            let lost = std::iter::once(entry.pid).chain(
                (0..16)
                    .filter(|bit| entry.blp & (1 << bit) != 0)
                    .map(|bit| entry.pid.wrapping_add(bit + 1)),
            );
            for seq in lost {
                let stream = &mut self.streams[at];
                if stream.setup.repair.is_none() {
                    return repaired;
                }
                let Some(kept) = stream.kept[seq as usize % KEPT_PER_STREAM].as_mut() else {
                    continue;
                };
                if kept.index as u16 != seq || now.saturating_duration_since(kept.last_sent) < rtt {
                    continue;
                }
                let estimate = self.estimator.estimate_bps();
                if !self.repair_budget.spend(now, estimate, kept.payload.len()) {
                    // Over its share of the link: asked again a round trip later.
                    return repaired;
                }
                kept.last_sent = now;
                let kept = kept.clone();
                let mut sealed = Vec::with_capacity(kept.payload.len() + 64);
                if self
                    .seal_repair(now, at, &kept, None, &mut sealed)
                    .is_some()
                {
                    out.push(sealed);
                    repaired += 1;
                }
            }
        }
        repaired
    }

    /// Sends `kept` again on the repair stream of stream number `at` (RFC 4588: its
    /// original sequence number before the payload), counted for probe `cluster` if
    /// any, appending the SRTP packet to `out`. `None` for a stream without one.
    fn seal_repair(
        &mut self,
        now: Instant,
        at: usize,
        kept: &Kept,
        cluster: Option<u32>,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        let stream = &mut self.streams[at];
        let repair = stream.setup.repair.clone()?;
        let index = stream.repair_index;
        stream.repair_index += 1;
        let extensions: Vec<(u8, &[u8])> = repair
            .extensions
            .iter()
            .map(|(id, value)| (*id, &value[..]))
            .collect();
        let packet = Outgoing {
            ssrc: repair.ssrc,
            payload_type: repair.payload_type,
            index,
            timestamp: kept.timestamp,
            marker: kept.marker,
            extensions: &extensions,
            payload: &kept.payload,
            head: &kept.head[..usize::from(kept.head_len)],
        };
        self.seal(now, &packet, Some(kept.index as u16), cluster, out)
            .ok()
    }

    /// The sender report of stream `ssrc` at `now`, whose wall-clock time is `wall`
    /// (since the Unix epoch), protected and appended to `out`. Its RTP time is the
    /// last packet's, advanced at the stream's clock rate by the time since it left,
    /// so a receiver lines audio up with video from what was really sent. `false` (and
    /// nothing written) before the stream's first packet.
    pub fn sender_report(
        &mut self,
        now: Instant,
        wall: Duration,
        ssrc: u32,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(info) = self.sender_info(now, ssrc) else {
            return false;
        };
        let ntp_secs = wall.as_secs() + NTP_UNIX_OFFSET_SECS;
        let ntp_frac = (u64::from(wall.subsec_nanos()) << 32) / 1_000_000_000;
        let mut report = Vec::with_capacity(28);
        report.extend_from_slice(&[0x80, SENDER_REPORT, 0, 6]);
        report.extend_from_slice(&ssrc.to_be_bytes());
        report.extend_from_slice(&(ntp_secs as u32).to_be_bytes());
        report.extend_from_slice(&(ntp_frac as u32).to_be_bytes());
        report.extend_from_slice(&info.rtp_time.to_be_bytes());
        report.extend_from_slice(&info.packets.to_be_bytes());
        report.extend_from_slice(&info.octets.to_be_bytes());
        self.rtcp.protect(&report, out).is_ok()
    }

    /// What a sender report of stream `ssrc` says at `now` (see
    /// [`RtpSender::sender_report`]); `None` before its first packet.
    pub fn sender_info(&self, now: Instant, ssrc: u32) -> Option<SenderInfo> {
        let stream = self.streams.iter().find(|s| s.setup.ssrc == ssrc)?;
        let (time, at) = stream.last?;
        let since = now.saturating_duration_since(at);
        let ticks = since.as_nanos() * u128::from(stream.setup.clock_hz) / 1_000_000_000;
        Some(SenderInfo {
            rtp_time: time.wrapping_add(ticks as u32),
            packets: stream.packets,
            octets: stream.octets,
        })
    }

    /// Whether stream `ssrc` was added.
    pub fn has_stream(&self, ssrc: u32) -> bool {
        self.streams.iter().any(|s| s.setup.ssrc == ssrc)
    }

    /// Numbers from here on follow `seq`, a transport-wide number another writer
    /// already used on this transport (str0m, before this sender took over).
    pub fn skip_past_twcc(&mut self, seq: u16) {
        let next = self.next_twcc;
        let mut used = (next & !0xffff) | u64::from(seq);
        if used > next + 0x8000 {
            used = used.saturating_sub(0x1_0000);
        } else if used + 0x8000 < next {
            used += 0x1_0000;
        }
        self.next_twcc = next.max(used + 1);
    }

    /// Sends one packet of probe `cluster` (see `LinkEstimator::probe_due`): a copy of
    /// the most recently sent video packet on its stream's repair stream, as
    /// libwebrtc's "payload padding" (a receiver that has the packet drops the copy;
    /// one that lost it is repaired). Its size on the wire; `None` (nothing sent) when
    /// no stream keeps packets yet.
    pub fn probe(&mut self, now: Instant, cluster: u32, out: &mut Vec<u8>) -> Option<usize> {
        let newest = self
            .streams
            .iter()
            .enumerate()
            .filter(|(_, s)| s.setup.repair.is_some())
            .filter_map(|(i, s)| {
                let (_, at) = s.last?;
                Some((at, i))
            })
            .max();
        let (_, at) = newest?;
        let last = self.streams[at]
            .kept
            .iter()
            .flatten()
            .max_by_key(|k| k.index)
            .cloned()?;
        let start = out.len();
        self.seal_repair(now, at, &last, Some(cluster), out)?;
        Some(out.len() - start)
    }
}

/// A stream's sender information (RFC 3550 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// The RTP time that goes with the report's wall-clock time.
    pub rtp_time: u32,
    /// Packets sent.
    pub packets: u32,
    /// Payload bytes sent.
    pub octets: u32,
}

#[cfg(test)]
#[path = "send_test.rs"]
mod tests;
