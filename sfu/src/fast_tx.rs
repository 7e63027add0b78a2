//! The subscribers' media path beside str0m: forwarded packets leave a subscriber's
//! transport through `bedside-media`'s [`RtpSender`], without str0m's per-packet send
//! work (its stream queues, RTX cache, pacer and a timer pass per packet: about a
//! quarter of the shard's time before, docs/sfu.md).
//!
//! A transport goes beside str0m whole, from its first forwarded packet: the
//! transport-wide sequence numbers the subscriber's feedback reports are one space per
//! transport, so media, repairs and probes all draw from the sender's counter (str0m's
//! own padding is dropped, after its numbers are skipped). What str0m did for these
//! packets is done here:
//!
//! - the send-side estimate ([`bedside_media::estimate::LinkEstimator`]) on the
//!   subscriber's transport-wide feedback, which layer selection reads instead of
//!   str0m's, and probes (copies of the newest video packet on its repair stream) when
//!   layers are wanted above it;
//! - NACKs answered from the packets kept per stream, on the RTX SSRC;
//! - pacing on a thin link (a leaky bucket at 1.1 times the estimate, as str0m's),
//!   audio never held behind video;
//! - sender reports: str0m still writes them (with its SDES), but it never saw these
//!   packets, so the sender information in them is rewritten from what left here
//!   ([`RtcpRewriter`], under str0m's own SRTCP index).
//!
//! str0m keeps ICE, DTLS, all received RTCP (keyframe requests, receiver reports) and
//! every RTCP packet it sends. The subscriber's RTCP is opened here as well, for the
//! feedback and NACKs.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bedside_media::estimate::LinkEstimator;
use bedside_media::keys::KeySlot;
use bedside_media::send::{MAX_HEAD, Outgoing, RepairSetup, RtpSender, StreamSetup};
use bedside_media::srtcp::{RtcpProtector, RtcpRewriter, RtcpUnprotector};
use bedside_media::srtp::RtpProtector;
use str0m::Rtc;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Transmit};
use str0m::rtp::{Extension, ExtensionValues};

use super::core::CoreOutput;
use super::participant::Peer;

/// The estimate's floor and ceiling.
const MIN_BPS: u64 = 30_000;
const MAX_BPS: u64 = 100_000_000;
/// Pacing runs at this many times the estimate (str0m's and libwebrtc's factor).
const PACING_FACTOR_PERCENT: u64 = 110;
/// The pacer lets this much out at once.
const PACING_BURST: Duration = Duration::from_millis(5);
/// The pacer drains what it holds within this long, faster than its rate if need be:
/// the queue never grows without bound behind a falling estimate. libwebrtc's limit:
/// shorter, a keyframe on a thin link (30 KB at 270 kbit/s is 0.9 s) left at up to
/// three times the link's rate, and a policer dropped half of it.
const DRAIN_WITHIN: Duration = Duration::from_secs(2);
/// The pacer's debt is bounded to this much time at its rate.
const MOST_DEBT: Duration = Duration::from_millis(500);
/// A changed estimate goes to layer selection when it moved this many percent, or
/// after [`TELL_EVERY`].
const TELL_CHANGE_PERCENT: u64 = 3;
const TELL_EVERY: Duration = Duration::from_millis(500);
/// A probe's packets are about this large (a video packet copied).
const PROBE_PACKET_BYTES: usize = 1_200;
/// A repeated NACK within this much of a repair is not answered again, before the
/// round trip is known.
const DEFAULT_RTT: Duration = Duration::from_millis(50);

/// The extensions a forwarded packet carries on this transport, by negotiated id.
#[derive(Debug, Clone, Copy, Default)]
struct SendExtIds {
    mid: Option<u8>,
    audio_level: Option<u8>,
    video_orientation: Option<u8>,
    video_content_type: Option<u8>,
}

/// The one-byte extension values of one packet (besides the `mid` and the
/// transport-wide number).
#[derive(Debug, Clone, Copy, Default)]
struct ExtBytes {
    audio_level: Option<u8>,
    video_orientation: Option<u8>,
    video_content_type: Option<u8>,
}

impl ExtBytes {
    fn of(ext: &ExtensionValues) -> Self {
        Self {
            audio_level: ext.audio_level.map(|level| {
                let voice = if ext.voice_activity == Some(true) {
                    0x80
                } else {
                    0
                };
                voice | (level.unsigned_abs() & 0x7f)
            }),
            video_orientation: ext.video_orientation.map(|o| o as u8),
            video_content_type: ext.video_content_type,
        }
    }
}

/// A sending section: its SSRC and its `mid` as the extension carries it.
#[derive(Debug)]
struct OutSection {
    ssrc: u32,
    mid: Vec<u8>,
    /// NACKs and keyframe requests (PLI, FIR) the subscriber sent for it.
    nacks: u64,
    keyframe_requests: u64,
}

/// One packet to send, with everything but its payload.
#[derive(Debug, Clone, Copy)]
struct Pending {
    mid: Mid,
    ssrc: u32,
    pt: u8,
    index: u64,
    time: u32,
    marker: bool,
    ext: ExtBytes,
    head: [u8; MAX_HEAD],
    head_len: u8,
}

/// A packet the pacer holds.
#[derive(Debug)]
struct Queued {
    pending: Pending,
    payload: Arc<[u8]>,
}

/// A probe cluster being sent.
#[derive(Debug, Clone, Copy)]
struct ProbeRun {
    cluster: u32,
    /// Its rate.
    bps: u64,
    /// What it still has to send, and how many packets it sent.
    bytes_left: i64,
    packets: u32,
    /// When its next packet leaves.
    next: Instant,
}

/// One forwarded packet, as the forwarder hands it over.
#[derive(Debug)]
pub(crate) struct Forwarded<'a> {
    /// The subscriber's sending section.
    pub(crate) mid: Mid,
    /// Its payload type on this transport.
    pub(crate) pt: Pt,
    /// Its extended sequence number on the section (the SRTP index).
    pub(crate) seq: u64,
    /// Its RTP time.
    pub(crate) time: u32,
    pub(crate) marker: bool,
    pub(crate) ext: &'a ExtensionValues,
    pub(crate) payload: &'a Arc<[u8]>,
    /// A rewritten codec descriptor for the payload's first bytes (or empty).
    pub(crate) head: &'a [u8],
    /// Video held by the pacer on a thin link (audio never is).
    pub(crate) paced: bool,
}

/// One subscriber transport's send path beside str0m (see the module docs).
pub(crate) struct FastSend {
    sender: RtpSender,
    rtcp_in: RtcpUnprotector,
    own_rtcp: RtcpRewriter,
    sections: BTreeMap<Mid, OutSection>,
    ids: SendExtIds,
    twcc_id: Option<u8>,
    /// Where the subscriber is: learnt from what str0m sends it and what it sends.
    remote: Option<(Protocol, SocketAddr, SocketAddr)>,
    queue: VecDeque<Queued>,
    /// The payload bytes in `queue`.
    queued_bytes: usize,
    /// The pacer's bytes in hand (negative: owed) as of `budget_at`.
    budget: i64,
    budget_at: Instant,
    probe: Option<ProbeRun>,
    /// What layer selection would like the link to carry (probes aim at it).
    pub(crate) wanted_bps: u64,
    /// The highest sequence number str0m sent on each SSRC (`Peer::str0m_seqs`).
    str0m_seqs: std::collections::BTreeMap<u32, u64>,
    /// The round trip str0m measured, for the NACK rule.
    pub(crate) rtt: Duration,
    /// The estimate last told to layer selection, and when.
    told: Option<(u64, Instant)>,
    plain: Vec<u8>,
    repairs: Vec<Vec<u8>>,
    /// The feedback's counts at the last [`FastSend::take_loss`].
    reported: (u64, u64),
    /// Packets and bytes sent here (media, repairs, probes).
    pub(crate) sent: (u64, u64),
    /// RTCP packets of transport-wide feedback alone, read here and kept from str0m.
    pub(crate) feedback_only: u64,
}

impl std::fmt::Debug for FastSend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastSend")
            .field("sections", &self.sections.len())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Peer {
    /// Moves this transport's sending beside str0m (see the module docs), with the
    /// transport-wide numbering continuing after `str0m_twcc`, the last number str0m
    /// used. `false` for a peer whose keys this path cannot use (it stays on str0m's).
    pub(crate) fn start_send_beside(&mut self, now: Instant, twcc_id: Option<u8>) -> bool {
        if self.send.is_some() {
            return true;
        }
        let Some(keys) = self.keys.as_ref().and_then(KeySlot::get) else {
            return false;
        };
        let (Some(receiving), Some(sending)) = (keys.receiving(), keys.sending()) else {
            // Not AES-GCM (every browser offers it, so this is rare). str0m sends
            // instead, with no estimate of its own (built without one, `new_rtc`): the
            // subscriber gets its preferred layers unadapted.
            tracing::warn!("sfu peer's SRTP profile is not AES-GCM: str0m sends its media");
            self.keys = None;
            return false;
        };
        let provider = bedside_media::keys::capturing_provider();
        let start_bps = super::signaling::INITIAL_DOWNLINK_KBPS * 1_000;
        let mut sender = RtpSender::new(
            RtpProtector::new(&provider, sending.0, sending.1, sending.2),
            RtcpProtector::new(&provider, sending.0, sending.1, sending.2),
            twcc_id,
            LinkEstimator::new(now, start_bps, MIN_BPS, MAX_BPS),
        );
        if let Some(seq) = self.str0m_twcc {
            sender.skip_past_twcc(seq);
        }
        let mut send = FastSend::new(
            now,
            sender,
            RtcpUnprotector::new(&provider, receiving.0, receiving.1, receiving.2),
            RtcpRewriter::new(&provider, sending.0, sending.1, sending.2),
            twcc_id,
        );
        send.remote = self.last_remote;
        send.str0m_seqs = std::mem::take(&mut self.str0m_seqs);
        self.send = Some(Box::new(send));
        true
    }
}

impl FastSend {
    /// A send path with no sections yet, sending through `sender`, opening the
    /// subscriber's RTCP with `rtcp_in` and rewriting str0m's with `own_rtcp`.
    fn new(
        now: Instant,
        sender: RtpSender,
        rtcp_in: RtcpUnprotector,
        own_rtcp: RtcpRewriter,
        twcc_id: Option<u8>,
    ) -> Self {
        Self {
            sender,
            rtcp_in,
            own_rtcp,
            sections: BTreeMap::new(),
            ids: SendExtIds::default(),
            twcc_id,
            remote: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            budget: 0,
            budget_at: now,
            probe: None,
            wanted_bps: 0,
            str0m_seqs: BTreeMap::new(),
            rtt: DEFAULT_RTT,
            told: None,
            plain: Vec::with_capacity(1_500),
            repairs: Vec::new(),
            sent: (0, 0),
            feedback_only: 0,
            reported: (0, 0),
        }
    }

    /// The SSRC of section `mid`, set up on first use from what str0m negotiated.
    fn section(&mut self, rtc: &mut Rtc, mid: Mid, pt: Pt) -> Option<u32> {
        if let Some(section) = self.sections.get(&mid) {
            return Some(section.ssrc);
        }
        let map = rtc.media(mid)?.remote_extmap();
        self.ids = SendExtIds {
            mid: map.id_of(Extension::RtpMid),
            audio_level: map.id_of(Extension::AudioLevel),
            video_orientation: map.id_of(Extension::VideoOrientation),
            video_content_type: map.id_of(Extension::VideoContentType),
        };
        let params = rtc
            .codec_config()
            .params()
            .iter()
            .find(|p| p.pt() == pt)
            .copied()?;
        let mut direct = rtc.direct_api();
        let stream = direct.stream_tx_by_mid(mid, None)?;
        let (ssrc, rtx) = (*stream.ssrc(), stream.rtx().map(|s| *s));
        let mid_bytes = mid.as_bytes().to_vec();
        let repair = match (rtx, params.resend()) {
            (Some(rtx), Some(rtx_pt)) => Some(RepairSetup {
                first_index: self.str0m_seqs.get(&rtx).map_or(0, |seq| seq + 1),
                ssrc: rtx,
                payload_type: *rtx_pt,
                extensions: self
                    .ids
                    .mid
                    .map(|id| vec![(id, mid_bytes.clone())])
                    .unwrap_or_default(),
            }),
            _ => None,
        };
        self.sender.add_stream(StreamSetup {
            ssrc,
            clock_hz: params.spec().clock_rate.get(),
            repair,
        });
        self.sections.insert(
            mid,
            OutSection {
                ssrc,
                mid: mid_bytes,
                nacks: 0,
                keyframe_requests: 0,
            },
        );
        Some(ssrc)
    }

    /// Sends (or, paced, queues) one forwarded packet; its SSRC on this transport,
    /// `None` when its section cannot send.
    pub(crate) fn send(
        &mut self,
        now: Instant,
        rtc: &mut Rtc,
        packet: &Forwarded<'_>,
        outputs: &mut VecDeque<CoreOutput>,
    ) -> Option<u32> {
        let ssrc = self.section(rtc, packet.mid, packet.pt)?;
        let mut head = [0u8; MAX_HEAD];
        let head_len = packet.head.len().min(MAX_HEAD);
        head[..head_len].copy_from_slice(&packet.head[..head_len]);
        let pending = Pending {
            mid: packet.mid,
            ssrc,
            pt: *packet.pt,
            index: packet.seq,
            time: packet.time,
            marker: packet.marker,
            ext: ExtBytes::of(packet.ext),
            head,
            head_len: head_len as u8,
        };
        if packet.paced {
            self.refill(now);
            if !self.queue.is_empty() || self.budget <= 0 {
                // Held: the pacer releases it (`fast_tx_pacing.rs`).
                self.queued_bytes += packet.payload.len();
                self.queue.push_back(Queued {
                    pending,
                    payload: packet.payload.clone(),
                });
                return Some(ssrc);
            }
        }
        self.transmit(now, &pending, packet.payload, outputs);
        Some(ssrc)
    }

    /// Charges `bytes` that left to the pacer. Everything that leaves uses the link,
    /// paced or not (audio, repairs, a link unpaced until now); the debt is bounded as
    /// str0m's pacer bounds it, so a link that turns thin is not held for what it
    /// carried while it was wide.
    fn charge(&mut self, now: Instant, bytes: usize) {
        self.refill(now);
        let most_debt = self.pace_bytes_per_sec() * MOST_DEBT.as_millis() as i64 / 1_000;
        self.budget = (self.budget - bytes as i64).max(-most_debt);
    }

    /// Writes, protects and queues one packet to the subscriber.
    fn transmit(
        &mut self,
        now: Instant,
        pending: &Pending,
        payload: &Arc<[u8]>,
        outputs: &mut VecDeque<CoreOutput>,
    ) {
        let Some((proto, source, destination)) = self.remote else {
            return;
        };
        let Some(section) = self.sections.get(&pending.mid) else {
            return;
        };
        let mut values: [(u8, [u8; 1]); 3] = [(0, [0]); 3];
        let mut count = 0;
        for (id, value) in [
            (self.ids.audio_level, pending.ext.audio_level),
            (self.ids.video_orientation, pending.ext.video_orientation),
            (self.ids.video_content_type, pending.ext.video_content_type),
        ] {
            if let (Some(id), Some(value)) = (id, value) {
                values[count] = (id, [value]);
                count += 1;
            }
        }
        let mut extensions: [(u8, &[u8]); 4] = [(0, &[]); 4];
        let mut used = 0;
        if let Some(id) = self.ids.mid {
            extensions[0] = (id, &section.mid[..]);
            used = 1;
        }
        for (id, value) in &values[..count] {
            extensions[used] = (*id, &value[..]);
            used += 1;
        }
        let outgoing = Outgoing {
            ssrc: pending.ssrc,
            payload_type: pending.pt,
            index: pending.index,
            timestamp: pending.time,
            marker: pending.marker,
            extensions: &extensions[..used],
            payload,
            head: &pending.head[..usize::from(pending.head_len)],
        };
        let mut sealed = Vec::with_capacity(payload.len() + 64);
        let cluster = self.probe.map(|run| run.cluster);
        if self
            .sender
            .send_in_cluster(now, &outgoing, cluster, &mut sealed)
            .is_err()
        {
            return;
        }
        self.charge(now, sealed.len());
        if let Some(run) = self.probe.as_mut() {
            run.bytes_left -= sealed.len() as i64;
        }
        push(
            outputs,
            (proto, source, destination),
            sealed,
            &mut self.sent,
        );
    }
}

#[path = "fast_tx_feedback.rs"]
mod feedback;
#[path = "fast_tx_pacing.rs"]
mod pacing;
#[path = "fast_tx_str0m.rs"]
mod str0m_side;
pub(crate) use str0m_side::twcc_id_of;

/// Queues one sealed datagram to the subscriber, counting it.
fn push(
    outputs: &mut VecDeque<CoreOutput>,
    (proto, source, destination): (Protocol, SocketAddr, SocketAddr),
    sealed: Vec<u8>,
    sent: &mut (u64, u64),
) {
    sent.0 += 1;
    sent.1 += sealed.len() as u64;
    outputs.push_back(CoreOutput::Transmit(Transmit {
        proto,
        source,
        destination,
        contents: sealed.into(),
    }));
}
