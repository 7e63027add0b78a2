//! The publishers' media path beside str0m: once str0m has received the first packet
//! of a stream (and so knows its SSRC, section, layer and repair stream), that stream's
//! packets are opened, checked and forwarded here, without str0m's per-packet session
//! work (stream lookup, registers, a timer pass and a poll per packet: 35% of the
//! shard's time before, docs/sfu.md). What str0m did for them is done here too:
//!
//! - SRTP: the rollover counter estimate and a replay window per SSRC (`bedside-media`
//!   `index`), AEAD-AES-GCM opened with the keys the DTLS handshake exported. A peer
//!   that negotiated AES_CM_128_HMAC_SHA1_80 stays on str0m's path.
//! - Repair (RTX) packets: their original sequence number restored, on their stream.
//! - Feedback to the publisher, under an RTCP sender SSRC of this path's own:
//!   transport-wide congestion control feedback (the browser's send estimate runs on
//!   it) every [`FEEDBACK_INTERVAL`], and NACKs at the first [`NACK_TICK`] after a gap
//!   opens, again every [`NACK_RETRY`] until repaired (three tries). str0m's NACKs for
//!   a handed-over stream are suppressed; its receiver reports go on (they no longer
//!   count these packets, so they report no loss; the browser's estimate takes loss
//!   from the feedback). Packets str0m still takes are reported in this feedback too.
//! - Loss and audio jitter for connection quality, which str0m's stats no longer see.
//!
//! str0m keeps ICE, DTLS, RTCP in both directions, and every packet of a stream it has
//! not handed over.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bedside_media::feedback::TwccReceiver;
use bedside_media::rtcp::write_nack;
use bedside_media::rtp::{ReadHeader, strip_padding};
use bedside_media::srtcp::RtcpProtector;
use bedside_media::srtp::RtpUnprotector;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Transmit};

use super::core::{Core, CoreOutput};
use super::fast_streams::{RxStream, StreamKind, extend, is_rtp};
use super::forward::Received;
use super::participant::Side;

/// How often transport-wide feedback goes to a publisher: a browser's own default as a
/// receiver (libwebrtc's remote estimator proxy); str0m sends every 50 ms.
pub(crate) const FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);

/// The grid feedback leaves on: a gap is NACKed at the first tick after it opened.
const NACK_TICK: Duration = Duration::from_millis(20);
/// How long a NACK waits for its repair before it is sent again.
const NACK_RETRY: Duration = Duration::from_millis(100);

/// The first tick of the grid `step` apart from `origin` that is after `now`.
fn tick_after(origin: Instant, now: Instant, step: Duration) -> Instant {
    let since = now.saturating_duration_since(origin).as_nanos();
    let step_nanos = step.as_nanos().max(1);
    let ticks = (since / step_nanos + 1) as u32;
    origin + step * ticks
}

/// One publisher peer's receive path beside str0m.
pub(crate) struct FastReceive {
    opener: RtpUnprotector,
    rtcp: RtcpProtector,
    /// The SSRC this path's RTCP goes out under (not str0m's).
    sender_ssrc: u32,
    streams: BTreeMap<u32, RxStream>,
    twcc: TwccReceiver,
    /// The transport-wide sequence number's extension id (one per session).
    twcc_id: Option<u8>,
    /// Where the publisher's packets come from (its feedback goes there).
    remote: Option<(Protocol, SocketAddr, SocketAddr)>,
    next_feedback: Option<Instant>,
    /// The tick transport-wide feedback is next written on, while any waits.
    next_twcc: Option<Instant>,
    /// The feedback grid's origin, shared by every publisher of the core.
    origin: Instant,
    /// Packets and bytes opened here (str0m's counters no longer see them).
    received: (u64, u64),
    /// Scratch: the RTCP being written, and a packet's plaintext.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for FastReceive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastReceive")
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// The path beside str0m (`fast_rx.rs`): `Some` when it took the packet (a
    /// publisher's, on a stream str0m handed over), whether it was forwarded or not.
    pub(crate) fn receive_beside_str0m(
        &mut self,
        now: Instant,
        arrival: Instant,
        remote: (str0m::net::Protocol, SocketAddr, SocketAddr),
        data: &[u8],
    ) -> Option<bool> {
        let &(conn, side) = self.routes.get(&remote.2)?;
        if side != Side::Publisher {
            return None;
        }
        let fast = self.participants.get_mut(&conn)?.publisher.fast.as_mut()?;
        match fast.receive(now, arrival, remote, data) {
            FastOutcome::NotMine => {
                fast.note_str0m_packet(now, arrival, data);
                None
            }
            FastOutcome::Dropped => Some(true),
            FastOutcome::Forward(packet) => {
                self.forward_received(now, conn, packet);
                Some(true)
            }
        }
    }
}

/// What became of a datagram offered to the path beside str0m.
// Boxing the packet would cost an allocation per packet; the outcome is matched and
// consumed at once.
#[allow(clippy::large_enum_variant)]
pub(crate) enum FastOutcome {
    /// Not for this path (not RTP, or a stream str0m has not handed over): str0m's.
    NotMine,
    /// Taken: refused (a replay, forged, unknown payload type) or a duplicate.
    Dropped,
    /// Opened: forward it.
    Forward(Received),
}

impl FastReceive {
    /// Opens one datagram from the publisher (`remote`: protocol, local and remote
    /// address), and records it for feedback as arrived at `arrival` (the kernel's
    /// receive time where the driver has it, see [`Core::receive_at`]).
    pub(crate) fn receive(
        &mut self,
        now: Instant,
        arrival: Instant,
        remote: (Protocol, SocketAddr, SocketAddr),
        data: &[u8],
    ) -> FastOutcome {
        if !is_rtp(data) {
            return FastOutcome::NotMine;
        }
        let ssrc = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
        let Some(stream) = self.streams.get_mut(&ssrc) else {
            return FastOutcome::NotMine;
        };
        let Some(header) = ReadHeader::parse(data) else {
            return FastOutcome::Dropped;
        };
        let index = stream.index.estimate(header.sequence);
        if !stream.index.is_fresh(index) {
            return FastOutcome::Dropped;
        }
        let mut plain = std::mem::take(&mut self.scratch);
        let opened = self
            .opener
            .unprotect(data, header.header_len, index, &mut plain);
        if opened.is_err() {
            self.scratch = plain;
            return FastOutcome::Dropped;
        }
        stream.index.accept(index);
        self.remote = Some(remote);
        self.received.0 += 1;
        self.received.1 += data.len() as u64;
        let (ext, twcc) = stream.ids.read(&header);
        let (mid, rid) = (stream.mid, stream.rid);
        // A repair's stream, and its payload type's original (`None`: not one of ours).
        let repair = match &stream.kind {
            StreamKind::Media(_) => None,
            StreamKind::Repair { media, pts } => {
                let original = pts.iter().find(|(rtx, _)| **rtx == header.payload_type);
                Some((*media, original.map(|(_, pt)| *pt)))
            }
        };
        if let Some(seq) = twcc {
            self.record_twcc(seq, now, arrival);
        }
        // A padding-only packet (a bandwidth probe) counts for feedback, and no further.
        let payload = strip_padding(&plain, header.padding).unwrap_or_default();
        let (media_ssrc, pt, seq16, payload) = match repair {
            None => (
                ssrc,
                Pt::from(header.payload_type),
                header.sequence,
                payload,
            ),
            Some((media, original)) => {
                let (Some(pt), Some(osn)) = (original, payload.get(..2)) else {
                    self.scratch = plain;
                    return FastOutcome::Dropped;
                };
                let seq = u16::from_be_bytes([osn[0], osn[1]]);
                (media, pt, seq, &payload[2..])
            }
        };
        let payload: Option<Arc<[u8]>> = (!payload.is_empty()).then(|| payload.into());
        self.scratch = plain;
        let Some(media) = self.streams.get_mut(&media_ssrc) else {
            return FastOutcome::Dropped;
        };
        let StreamKind::Media(state) = &mut media.kind else {
            return FastOutcome::Dropped;
        };
        let seq = extend(state.highest, 16, u64::from(seq16));
        let time = extend(state.time, 32, u64::from(header.timestamp));
        // A repair of a packet that already arrived goes no further. libwebrtc probes
        // its link with copies of packets it just sent, on the RTX stream (payload
        // padding), most of all when it starts publishing: forwarded, each reached the
        // subscriber under a sequence number it already had, its SRTP refused it as a
        // replay (Chromium: "Failed to unprotect SRTP packet, err=9"), and the
        // transport-wide number it took was reported lost: 13-25% of a newly admitted
        // participant's packets, a falling estimate and a "poor" grade.
        if repair.is_some() && state.nacks.received(seq) {
            return FastOutcome::Dropped;
        }
        state.nacks.record(seq, now);
        if seq > state.highest {
            state.highest = seq;
            state.time = time;
        }
        // Loss and jitter are the network's: a repair is neither counted nor timed.
        if media_ssrc == ssrc {
            state.received_since_stats += 1;
            state.record_transit(now, time);
        }
        // Feedback leaves from the timer, never from here, on ticks of a grid every
        // publisher shares: what it says and when then depend on which packets
        // arrived, not on their order within one receive batch (so a simulation is
        // reproducible from its seed), and their timers fall due together (served
        // sixteen to a turn, `participants.rs`).
        self.wake_at(tick_after(self.origin, now, NACK_TICK));
        let Some(payload) = payload else {
            return FastOutcome::Dropped;
        };
        FastOutcome::Forward(Received {
            mid,
            rid,
            pt,
            seq,
            time,
            marker: header.marker,
            ext,
            payload,
            arrival,
        })
    }

    /// Records the arrival of transport-wide sequence number `seq` and schedules the
    /// feedback that reports it.
    fn record_twcc(&mut self, seq: u16, now: Instant, arrival: Instant) {
        self.twcc.record(seq, arrival);
        if self.next_twcc.is_none() {
            let at = tick_after(self.origin, now, FEEDBACK_INTERVAL);
            self.next_twcc = Some(at);
            self.wake_at(at);
        }
    }

    fn wake_at(&mut self, at: Instant) {
        self.next_feedback = Some(self.next_feedback.map_or(at, |next| next.min(at)));
    }

    /// A packet of this publisher's that str0m takes (a stream not handed over yet, a
    /// repair stream str0m has not named, a bandwidth probe): its transport-wide
    /// sequence number is reported here too, or this path's feedback would call it
    /// lost, and the publisher's estimate would fall on its probes. (str0m reports it
    /// as well; a packet reported received twice is received.)
    pub(crate) fn note_str0m_packet(&mut self, now: Instant, arrival: Instant, data: &[u8]) {
        if !is_rtp(data) {
            return;
        }
        let (Some(id), Some(header)) = (self.twcc_id, ReadHeader::parse(data)) else {
            return;
        };
        if let Some(&[high, low, ..]) = header.extension(id) {
            self.record_twcc(u16::from_be_bytes([high, low]), now, arrival);
        }
    }

    /// When feedback is next due, if anything waits for it.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.next_feedback
    }

    /// Sends NACKs and their retries when due, and transport-wide feedback on its
    /// slower ticks.
    pub(crate) fn feedback_if_due(&mut self, now: Instant, outputs: &mut VecDeque<CoreOutput>) {
        if self.next_feedback.is_none_or(|at| at > now) {
            return;
        }
        if self.next_twcc.is_some_and(|at| at <= now) {
            self.next_twcc = None;
            let media_ssrc = self.streams.keys().next().copied().unwrap_or_default();
            let mut packet = std::mem::take(&mut self.scratch);
            packet.clear();
            while self
                .twcc
                .write_feedback(self.sender_ssrc, media_ssrc, &mut packet)
            {
                self.transmit(&packet, outputs);
                packet.clear();
            }
            self.scratch = packet;
        }
        let mut nacks = Vec::new();
        for (ssrc, stream) in &mut self.streams {
            if let StreamKind::Media(state) = &mut stream.kind
                && state.nacks.has_missing()
            {
                nacks.push((*ssrc, state.nacks.due(now, NACK_RETRY)));
            }
        }
        for (ssrc, due) in nacks {
            self.send_nack(ssrc, &due, outputs);
        }
        let missing = self.streams.values().any(|s| match &s.kind {
            StreamKind::Media(state) => state.nacks.has_missing(),
            StreamKind::Repair { .. } => false,
        });
        let waiting = missing || self.next_twcc.is_some();
        self.next_feedback = waiting.then(|| tick_after(self.origin, now, NACK_TICK));
    }

    fn send_nack(&mut self, ssrc: u32, missing: &[u16], outputs: &mut VecDeque<CoreOutput>) {
        if missing.is_empty() {
            return;
        }
        let mut packet = Vec::new();
        write_nack(&mut packet, self.sender_ssrc, ssrc, missing);
        self.transmit(&packet, outputs);
    }

    /// Protects one RTCP packet and queues it to the publisher.
    fn transmit(&mut self, rtcp: &[u8], outputs: &mut VecDeque<CoreOutput>) {
        let Some((proto, source, destination)) = self.remote else {
            return;
        };
        let mut sealed = Vec::with_capacity(rtcp.len() + 20);
        if self.rtcp.protect(rtcp, &mut sealed).is_err() {
            return;
        }
        outputs.push_back(CoreOutput::Transmit(Transmit {
            proto,
            source,
            destination,
            contents: sealed.into(),
        }));
    }

    /// The fraction of media packets lost since the last call (over every stream),
    /// `None` when none were expected.
    pub(crate) fn take_loss(&mut self) -> Option<f32> {
        let (mut expected, mut received) = (0u64, 0u64);
        for stream in self.streams.values_mut() {
            if let StreamKind::Media(state) = &mut stream.kind {
                expected += state.highest - state.highest_at_stats;
                received += state.received_since_stats;
                state.highest_at_stats = state.highest;
                state.received_since_stats = 0;
            }
        }
        (expected > 0).then(|| (1.0 - received as f32 / expected as f32).max(0.0))
    }

    /// Whether packet `seq` (extended) of media stream `ssrc` already arrived here: a
    /// repair str0m opened of it (its repair stream not yet known here) is then a
    /// duplicate (see [`FastReceive::receive`]).
    pub(crate) fn already_received(&self, ssrc: u32, seq: u64) -> bool {
        self.streams
            .get(&ssrc)
            .is_some_and(|stream| match &stream.kind {
                StreamKind::Media(state) => state.nacks.received(seq),
                StreamKind::Repair { .. } => false,
            })
    }

    /// The interarrival jitter of a section's stream, in its clock's ticks.
    pub(crate) fn jitter_ticks(&self, mid: Mid) -> Option<u32> {
        self.streams.values().find_map(|s| match &s.kind {
            StreamKind::Media(state) if s.mid == mid => Some((state.jitter16 / 16) as u32),
            _ => None,
        })
    }

    /// Packets and bytes received on this path.
    pub(crate) fn received(&self) -> (u64, u64) {
        self.received
    }

    /// Whether `mid`'s streams come through this path.
    pub(crate) fn carries(&self, mid: Mid) -> bool {
        self.streams.values().any(|s| s.mid == mid)
    }
}

#[path = "fast_handover.rs"]
mod handover;

#[cfg(test)]
#[path = "fast_rx_test.rs"]
mod tests;
