//! The generator's send path beside str0m (`bedside-media`'s `RtpSender`, the sending
//! end the SFU's subscriber side is to use too): each packet's header is written,
//! protected with the keys the peer's DTLS handshake exported, and sent on the peer's
//! socket. str0m keeps ICE, DTLS, RTCP and what the peer receives.
//!
//! The SFU's transport-wide feedback on these packets (`lean_receive.rs` opens it)
//! feeds a send-side estimate (`bedside_media::estimate`), as a browser's would: the
//! benchmark reports it, so a load at which the SFU's feedback would make publishers'
//! browsers send less shows (the generator itself sends on regardless).
//!
//! Why: the generator's str0m peers cost about what the SFU does per packet, so at the
//! SFU's ceiling both cores filled together (`docs/sfu.md`). Sending beside str0m takes
//! its send streams, pacer and timer passes out of every packet the generator sends.
//!
//! What the SFU sees is what a browser sends: the negotiated SSRCs and payload types,
//! the `mid`, `rid` and transport-wide sequence number extensions on every packet. The
//! generator answers no NACK (no RTX cache) and sends no sender reports for these
//! streams; on loopback nothing is lost, and the SFU needs neither to forward.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bedside_media::estimate::LinkEstimator;
use bedside_media::keys::SrtpKeys;
use bedside_media::send::{Outgoing, RtpSender, StreamSetup};
use bedside_media::srtcp::RtcpProtector;
use bedside_media::srtp::RtpProtector;
use str0m::Rtc;
use str0m::media::{Mid, Rid};
use str0m::rtp::Extension;
use str0m::rtp::rtcp::Twcc;
use tokio::net::UdpSocket;

use crate::batch_io::Outbox;

/// Where the send-side estimate starts: above the three layers and audio (about
/// 2.3 Mbit/s), where a browser's first probes would have taken it.
const START_ESTIMATE_BPS: u64 = 4_000_000;

/// Extension ids the SDP gave one section.
#[derive(Debug, Clone, Copy)]
struct SectionIds {
    mid: Mid,
    mid_id: Option<u8>,
    rid_id: Option<u8>,
    twcc_id: Option<u8>,
}

/// Sends a peer's RTP beside str0m (see the module docs).
#[derive(Debug)]
pub struct LeanSender {
    sender: RtpSender,
    sections: Vec<SectionIds>,
    /// The SSRCs already added to `sender`.
    streams: Vec<u32>,
    /// Sealed packets for the next flush.
    outbox: Outbox,
}

/// One packet to send.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Its section.
    pub mid: Mid,
    /// Its simulcast layer.
    pub rid: Option<Rid>,
    /// The stream's SSRC (str0m's, as negotiated).
    pub ssrc: u32,
    /// Its RTP clock rate.
    pub clock_hz: u32,
    /// Payload type.
    pub pt: u8,
    /// The stream's packet counter: its low 16 bits are the sequence number, the rest
    /// the SRTP rollover counter.
    pub index: u64,
    /// RTP timestamp.
    pub time: u32,
    /// A frame's last packet.
    pub marker: bool,
    /// The payload.
    pub payload: &'a Arc<[u8]>,
}

impl LeanSender {
    /// A sender for `rtc`'s sections `mids`, once its handshake exported `keys` with a
    /// profile `bedside-media` protects with (`None` otherwise: str0m sends).
    pub fn new(rtc: &Rtc, keys: &SrtpKeys, mids: &[Mid], now: Instant) -> Option<Self> {
        let (profile, key, salt) = keys.sending()?;
        let provider = bedside_media::keys::capturing_provider();
        let sections: Vec<SectionIds> = mids
            .iter()
            .map(|mid| {
                let map = rtc.media(*mid).map(|m| m.remote_extmap());
                let id = |e: Extension| map.and_then(|m| m.id_of(e));
                SectionIds {
                    mid: *mid,
                    mid_id: id(Extension::RtpMid),
                    rid_id: id(Extension::RtpStreamId),
                    twcc_id: id(Extension::TransportSequenceNumber),
                }
            })
            .collect();
        let twcc_id = sections.iter().find_map(|s| s.twcc_id);
        Some(Self {
            sender: RtpSender::new(
                RtpProtector::new(&provider, profile, key, salt),
                RtcpProtector::new(&provider, profile, key, salt),
                twcc_id,
                // A browser's estimate after its first probes: above what the peer
                // sends, so only the SFU's feedback brings it down.
                LinkEstimator::new(now, START_ESTIMATE_BPS, 30_000, 20_000_000),
            ),
            sections,
            streams: Vec::new(),
            outbox: Outbox::default(),
        })
    }

    /// Feeds the SFU's transport-wide feedback on these packets to the estimate.
    pub fn transport_feedback(&mut self, now: Instant, feedback: Twcc) {
        self.sender.transport_feedback(now, feedback);
    }

    /// The send-side estimate, in bits per second.
    pub fn estimate_bps(&self) -> u64 {
        self.sender.estimator.estimate_bps()
    }

    /// Bytes sent (protected, as on the wire).
    pub fn sent_bytes(&self) -> u64 {
        self.sender.sent_bytes
    }

    /// Writes and protects one packet, `now`, for the next [`LeanSender::flush`].
    pub fn send(&mut self, now: Instant, packet: Packet<'_>) {
        let Some(ids) = self.sections.iter().find(|s| s.mid == packet.mid).copied() else {
            return;
        };
        if !self.streams.contains(&packet.ssrc) {
            self.streams.push(packet.ssrc);
            self.sender.add_stream(StreamSetup {
                ssrc: packet.ssrc,
                clock_hz: packet.clock_hz,
                repair: None,
            });
        }
        let rid = packet.rid;
        let present = [
            ids.mid_id.map(|id| (id, packet.mid.as_bytes())),
            ids.rid_id
                .zip(rid.as_ref())
                .map(|(id, rid)| (id, rid.as_bytes())),
        ];
        let mut extensions: [(u8, &[u8]); 2] = [(0, &[]); 2];
        let mut count = 0;
        for extension in present.into_iter().flatten() {
            extensions[count] = extension;
            count += 1;
        }
        let outgoing = Outgoing {
            ssrc: packet.ssrc,
            payload_type: packet.pt,
            index: packet.index,
            timestamp: packet.time,
            marker: packet.marker,
            extensions: &extensions[..count],
            payload: packet.payload,
            head: &[],
        };
        let sealed = self.outbox.next_buffer(packet.payload.len() + 64);
        if self.sender.send(now, &outgoing, sealed).is_err() {
            self.outbox.unqueue_last();
        }
    }

    /// Sends what [`LeanSender::send`] sealed since the last flush, to `to`.
    pub fn flush(&mut self, socket: &UdpSocket, to: SocketAddr) {
        self.outbox.flush(socket, to);
    }
}
