//! The generator's receive path beside str0m (`bedside-media`), the mirror of
//! `lean_send.rs`: each datagram from the SFU that is RTP is opened here with the keys
//! the peer's DTLS handshake exported and counted, and its transport-wide sequence
//! number recorded; transport-wide feedback goes back every [`FEEDBACK_INTERVAL`], as a
//! browser's does (the SFU's downlink estimate runs on it). str0m keeps ICE, DTLS and
//! the RTCP the SFU sends (keyframe requests).
//!
//! Why: with the SFU's own receive path beside str0m, the generator's str0m receive
//! side was what filled its core first at 128 visits (docs/sfu.md).
//!
//! The SFU's RTCP is opened here too (str0m still takes it as well): its transport-wide
//! feedback on what this peer sends is kept for the send side's estimate
//! ([`LeanReceiver::transport_feedback`]).
//!
//! Like a receiver that does not NACK, it asks for nothing again: a packet lost on the
//! way counts as lost. Repair packets (RTX, and the padding the SFU's estimator probes
//! with) are recorded for feedback and otherwise not counted: they repeat what came.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bedside_media::feedback::TwccReceiver;
use bedside_media::index::ReceivedIndex;
use bedside_media::keys::SrtpKeys;
use bedside_media::rtp::{ReadHeader, strip_padding};
use bedside_media::srtcp::{RtcpProtector, RtcpUnprotector};
use bedside_media::srtp::RtpUnprotector;
use str0m::Rtc;
use str0m::format::Codec;
use str0m::media::Mid;
use str0m::rtp::Extension;
use str0m::rtp::rtcp::{Rtcp, Twcc};
use tokio::net::UdpSocket;

use crate::payload::STAMP_AT;
use crate::report::PeerReport;

/// How often transport-wide feedback goes back (a browser's is about this often).
pub const FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);

/// Receives a peer's RTP beside str0m (see the module docs).
pub struct LeanReceiver {
    opener: RtpUnprotector,
    rtcp: RtcpProtector,
    rtcp_opener: RtcpUnprotector,
    /// The SFU's transport-wide feedback on this peer's packets, not taken yet.
    pub transport_feedback: Vec<Twcc>,
    sender_ssrc: u32,
    twcc_id: Option<u8>,
    audio_pts: Vec<u8>,
    video_pts: Vec<u8>,
    windows: HashMap<u32, ReceivedIndex>,
    twcc: TwccReceiver,
    next_feedback: Instant,
    /// Media packets and bytes received (repairs and padding not counted).
    pub received: (u64, u64),
    plain: Vec<u8>,
}

impl std::fmt::Debug for LeanReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeanReceiver")
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl LeanReceiver {
    /// A receiver for `rtc` (its sections `mids` name the extension ids), once its handshake exported `keys` with a profile
    /// `bedside-media` opens (`None` otherwise: str0m receives).
    pub fn new(
        rtc: &Rtc,
        keys: &SrtpKeys,
        mids: &[Mid],
        local: SocketAddr,
        now: Instant,
    ) -> Option<Self> {
        let (profile, key, salt) = keys.receiving()?;
        let (sending, send_key, send_salt) = keys.sending()?;
        let provider = bedside_media::keys::capturing_provider();
        let pts = |codec: Codec| -> Vec<u8> {
            rtc.codec_config()
                .params()
                .iter()
                .filter(|p| p.spec().codec == codec)
                .map(|p| *p.pt())
                .collect()
        };
        let twcc_id = mids.iter().find_map(|mid| {
            let map = rtc.media(*mid)?.remote_extmap();
            map.id_of(Extension::TransportSequenceNumber)
        });
        Some(Self {
            opener: RtpUnprotector::new(&provider, profile, key, salt),
            rtcp: RtcpProtector::new(&provider, sending, send_key, send_salt),
            rtcp_opener: RtcpUnprotector::new(&provider, profile, key, salt),
            transport_feedback: Vec::new(),
            sender_ssrc: 0xbe7c_0000 | u32::from(local.port()),
            twcc_id,
            audio_pts: pts(Codec::Opus),
            video_pts: pts(Codec::Vp8),
            windows: HashMap::new(),
            twcc: TwccReceiver::default(),
            next_feedback: now + FEEDBACK_INTERVAL,
            received: (0, 0),
            plain: Vec::new(),
        })
    }

    /// Takes one datagram if it is RTP (false: str0m's), counting it in `report` while
    /// `measuring`.
    pub fn receive(
        &mut self,
        now: Instant,
        data: &[u8],
        measuring: Option<Instant>,
        report: &mut PeerReport,
    ) -> bool {
        let rtp = data.len() >= 12 && data[0] >> 6 == 2 && !(192..=223).contains(&data[1]);
        if !rtp && data.len() >= 8 && data[0] >> 6 == 2 {
            self.read_rtcp(data);
            return false;
        }
        let Some(header) = rtp.then(|| ReadHeader::parse(data)).flatten() else {
            return false;
        };
        let window = self.windows.entry(header.ssrc).or_default();
        let index = window.estimate(header.sequence);
        if !window.is_fresh(index)
            || self
                .opener
                .unprotect(data, header.header_len, index, &mut self.plain)
                .is_err()
        {
            return true;
        }
        window.accept(index);
        if let Some(&[high, low, ..]) = self.twcc_id.and_then(|id| header.extension(id)) {
            self.twcc.record(u16::from_be_bytes([high, low]), now);
        }
        let payload = strip_padding(&self.plain, header.padding).unwrap_or_default();
        let video = self.video_pts.contains(&header.payload_type);
        if payload.is_empty() || !video && !self.audio_pts.contains(&header.payload_type) {
            return true;
        }
        self.received.0 += 1;
        self.received.1 += data.len() as u64;
        if let Some(epoch) = measuring {
            count(report, payload, video, header.marker, epoch);
        }
        true
    }

    /// Opens one SRTCP packet and keeps the transport-wide feedback in it.
    fn read_rtcp(&mut self, data: &[u8]) {
        if self.rtcp_opener.unprotect(data, &mut self.plain).is_err() {
            return;
        }
        let mut rest = &self.plain[..];
        while rest.len() >= 4 {
            let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
            let Some(packet) = rest.get(..len) else { break };
            if let Ok(Rtcp::Twcc(twcc)) = Rtcp::try_from(packet) {
                self.transport_feedback.push(twcc);
            }
            rest = &rest[len..];
        }
    }

    /// Sends transport-wide feedback to `remote` when it is due.
    pub fn feedback(&mut self, now: Instant, socket: &UdpSocket, remote: SocketAddr) {
        if now < self.next_feedback {
            return;
        }
        self.next_feedback = now + FEEDBACK_INTERVAL;
        let mut packet = Vec::new();
        while self.twcc.write_feedback(self.sender_ssrc, 0, &mut packet) {
            let mut sealed = Vec::with_capacity(packet.len() + 20);
            if self.rtcp.protect(&packet, &mut sealed).is_ok() {
                let _ = socket.try_send_to(&sealed, remote);
            }
            packet.clear();
        }
    }
}

/// Counts one received media packet: its delay from the send time it carries, a video
/// frame by its marker packet, an audio frame by its packet.
pub fn count(report: &mut PeerReport, payload: &[u8], video: bool, marker: bool, epoch: Instant) {
    let sent = payload
        .get(STAMP_AT..STAMP_AT + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes);
    let now_us = Instant::now().duration_since(epoch).as_micros() as u64;
    if let Some(sent) = sent {
        report.latencies_us.push(now_us.saturating_sub(sent));
    }
    if video {
        report.video_frames_received += u64::from(marker);
    } else {
        report.audio_frames_received += 1;
    }
}
