//! A virtual network, a virtual clock and str0m peers standing in for browsers, around a
//! real [`Core`]. Nothing sleeps, and a run is reproducible from its seed: a seeded
//! generator decides losses, the core's sids come from the seed, and str0m's own draws
//! (ICE credentials, SSRCs, ids, its pacer's jitter) come from `fastrand`'s thread-local
//! generator, which [`Sim::new`] seeds (the simulation runs on the test's one thread).
//! Only DTLS keys and handshakes are drawn by aws-lc from the OS; they change the
//! encrypted bytes, and a handshake flight's length by a byte or two (ECDSA signatures),
//! but not when a datagram leaves or how large a media packet is ([`Sim::trace`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use livekit_protocol as proto;
use proto::{signal_request, signal_response};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId};
use str0m::media::{
    Direction, Frequency, KeyframeRequestKind, MediaKind, MediaTime, Mid, Rid, Simulcast,
    SimulcastLayer,
};
use str0m::net::Receive;
use str0m::{Candidate, Event, Input, Output, Rtc};

use bedside_signal::ext::SectionAssignment;

use crate::JoinGrant;
use crate::core::{ConnId, Core, CoreConfig, CoreInput, CoreOutput, PeerMode};

#[path = "sim_peers_test.rs"]
mod peers;
pub use peers::test_grant;
#[path = "sim_losses_test.rs"]
mod losses;
#[path = "sim_publish_test.rs"]
mod publish;
use losses::{Losses, stable_identity};

/// One-way latency of every link.
const LATENCY: Duration = Duration::from_millis(5);
/// Step of the virtual clock.
pub const STEP: Duration = Duration::from_millis(1);
/// Simulcast layers and the frame size each sends every 35 ms (so a receiver can tell
/// them apart): about 150 kbit/s, 650 kbit/s and 1 Mbit/s.
pub const LAYERS: [(&str, usize); 3] = [("q", 650), ("h", 2850), ("f", 4400)];
/// Audio frame size.
pub const AUDIO_BYTES: usize = 90;

/// A frame a simulated browser received.
#[derive(Debug, Clone)]
pub struct Received {
    /// str0m saw no sequence gap before this frame.
    pub contiguous: bool,
    pub kind: MediaKind,
    pub keyframe: bool,
    pub len: usize,
    pub at: Instant,
    /// Its RTP time (extended), as the receiver saw it.
    pub rtp_time: u64,
    /// Its VP8 PictureID, if it carried one.
    pub picture_id: Option<u64>,
    /// The section it arrived on.
    pub mid: Mid,
}

/// A str0m peer playing `livekit-client`.
pub struct Client {
    pub conn: ConnId,
    pub identity: String,
    pub publisher: Rtc,
    pub subscriber: Option<Rtc>,
    pub addr: SocketAddr,
    pub sub_addr: SocketAddr,
    pending: Option<SdpPendingOffer>,
    renegotiate: bool,
    /// Receive sections, offered `recvonly` every time (like a browser's transceivers).
    recv_mids: Vec<Mid>,
    /// Sections to add in the next offer: kind, direction, local track id (sending).
    queued: Vec<(MediaKind, Direction, Option<&'static str>)>,
    next_offer_id: u32,
    pub signals: Vec<signal_response::Message>,
    /// Asks for Bedside's open receive sections (single mode), as the Bedside client does.
    pub open_sections: bool,
    /// The open-section bindings the SFU announced, in order.
    pub assigned: Vec<SectionAssignment>,
    pub received: Vec<Received>,
    pub keyframe_requests: usize,
    pub data: Vec<proto::DataPacket>,
    pub closed: bool,
    /// Local sending mids (audio, video), once negotiated.
    pub audio_mid: Option<Mid>,
    pub video_mid: Option<Mid>,
    pub simulcast: bool,
    /// Announces each layer's bitrate this many times what it sends.
    pub announce_factor: u32,
    /// Its camera track is announced but sends nothing (a camera turned on later).
    pub camera_off: bool,
    publishing: bool,
    force_keyframe: bool,
    frames: u64,
    channels: HashMap<String, ChannelId>,
    pub sent_video_frames: u64,
    pub sent_audio_frames: u64,
    /// The microphone's level its audio packets carry (`ssrc-audio-level`, dBov), if any.
    pub voice_dbov: Option<i8>,
    /// Transport-wide feedback statuses it heard: received, not received (only with
    /// [`Sim::raw_packets`]).
    pub feedback_statuses: (u64, u64),
    /// Transport-wide feedback packets it heard, and the distinct arrival times they
    /// reported, summed over the packets (only with [`Sim::raw_packets`]).
    pub feedback_arrival_times: (u64, u64),
}

impl Client {
    fn rtcs(&mut self) -> Vec<(&mut Rtc, SocketAddr)> {
        let mut v = vec![(&mut self.publisher, self.addr)];
        if let Some(sub) = self.subscriber.as_mut() {
            v.push((sub, self.sub_addr));
        }
        v
    }

    /// The rtc remote media arrives on.
    pub fn receiving_rtc(&mut self) -> &mut Rtc {
        match self.subscriber.as_mut() {
            Some(sub) => sub,
            None => &mut self.publisher,
        }
    }

    /// Frames received of `kind`.
    pub fn frames(&self, kind: MediaKind) -> Vec<&Received> {
        self.received.iter().filter(|r| r.kind == kind).collect()
    }

    /// Participant updates received about `identity`.
    pub fn updates_about(&self, identity: &str) -> Vec<proto::ParticipantInfo> {
        self.signals
            .iter()
            .filter_map(|s| match s {
                signal_response::Message::Update(u) => Some(u.participants.clone()),
                _ => None,
            })
            .flatten()
            .filter(|p| p.identity == identity)
            .collect()
    }
}

struct Datagram {
    at: Instant,
    from: SocketAddr,
    to: SocketAddr,
    bytes: Vec<u8>,
}

/// The simulated world.
pub struct Sim {
    pub now: Instant,
    pub core: Core,
    pub clients: Vec<Client>,
    server: SocketAddr,
    flight: Vec<Datagram>,
    /// Per receiving address: link rate (bit/s) and when the link is next free.
    limits: HashMap<SocketAddr, (u64, Instant)>,
    losses: Losses,
    /// Probability that any datagram is lost.
    pub loss: f64,
    /// Per receiving address: probability that a datagram to it is lost.
    downlink_loss: HashMap<SocketAddr, f64>,
    /// Loss of what one client sends, by its address.
    uplink_loss: HashMap<SocketAddr, f64>,
    next_conn: ConnId,
    /// The next client to join asks for open receive sections.
    open_sections_next: bool,
    /// When the simulation started.
    start: Instant,
    /// Every datagram sent, once [`Sim::record_trace`] is called.
    trace: Option<Vec<TracedDatagram>>,
    /// Copies of what one address sends, once [`Sim::capture_from`] names it.
    pub captured: Option<(SocketAddr, Vec<Vec<u8>>)>,
    /// Clients that join from now on see the RTCP they receive (str0m's raw packets).
    pub raw_packets: bool,
    /// The server reads its datagrams only this often, each with the time it reached
    /// the host (a busy shard's turn, with kernel receive times; `Core::receive_at`).
    pub server_reads_every: Option<Duration>,
}

/// A datagram as the virtual network saw it leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TracedDatagram {
    /// Time since the simulation started.
    pub sent_at: Duration,
    pub from: SocketAddr,
    pub to: SocketAddr,
    /// Its size, but not DTLS's (RFC 7983): its ECDSA signatures vary by a byte or two.
    pub len: Option<usize>,
    /// It was lost on the way (by [`Sim::loss`] or a full bottleneck queue).
    pub lost: bool,
}

impl Sim {
    pub fn new(seed: u64) -> Self {
        let server: SocketAddr = "10.0.0.1:7882".parse().unwrap_or_else(|_| unreachable!());
        Self::with_addresses(seed, server, server)
    }

    /// A simulation whose SFU socket is bound to `local` while clients are told (and
    /// send to) `public`: a host behind 1:1 NAT, or one bound to 0.0.0.0.
    pub fn with_addresses(seed: u64, public: SocketAddr, local: SocketAddr) -> Self {
        fastrand::seed(seed);
        let now = Instant::now();
        let server = public;
        let core = Core::new(CoreConfig {
            public_addr: public,
            local_addr: local,
            tcp: None,
            empty_room_timeout: Duration::from_secs(20),
            ice_timeout: Duration::from_secs(20),
            sids: crate::ids::Sids::seeded(seed),
            media_beside_str0m: true,
            send_beside_str0m: true,
        });
        Self {
            now,
            core,
            clients: Vec::new(),
            server,
            flight: Vec::new(),
            limits: HashMap::new(),
            losses: Losses {
                seed,
                step: now,
                seen: HashMap::new(),
            },
            loss: 0.0,
            downlink_loss: HashMap::new(),
            uplink_loss: HashMap::new(),
            next_conn: 1,
            open_sections_next: false,
            start: now,
            trace: None,
            captured: None,
            raw_packets: false,
            server_reads_every: None,
        }
    }
    /// From now on, remembers every datagram sent ([`Sim::trace`]).
    pub fn record_trace(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }
    /// The datagrams sent since [`Sim::record_trace`].
    pub fn trace(&self) -> &[TracedDatagram] {
        self.trace.as_deref().unwrap_or_default()
    }
    fn new_rtc(&self, addr: SocketAddr) -> Rtc {
        let mut rtc = Rtc::builder()
            .enable_raw_packets(self.raw_packets)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(self.now);
        let candidate = Candidate::host(addr, "udp").unwrap_or_else(|e| panic!("candidate: {e}"));
        rtc.add_local_candidate(candidate);
        rtc
    }
    /// Delivers the core's queued outputs.
    fn pump(&mut self) {
        let mut follow_ups = Vec::new();
        while let Some(output) = self.core.poll_output() {
            match output {
                CoreOutput::Transmit(t) => {
                    self.send(self.server, t.destination, t.contents.to_vec())
                }
                CoreOutput::Signal { conn, message } => {
                    if let Some(index) = self.clients.iter().position(|c| c.conn == conn) {
                        follow_ups.push((index, *message));
                    }
                }
                CoreOutput::SectionsAssigned { conn, assigned } => {
                    if let Some(client) = self.clients.iter_mut().find(|c| c.conn == conn) {
                        client.assigned.extend(assigned.sections);
                    }
                }
                CoreOutput::Webhook(_) => {}
                CoreOutput::Close { conn, .. } => {
                    if let Some(client) = self.clients.iter_mut().find(|c| c.conn == conn) {
                        client.closed = true;
                    }
                }
            }
        }
        self.core.departed(self.now);
        for (index, message) in follow_ups {
            self.client_signal(index, message);
        }
    }
    /// Keeps a copy of every datagram `from` sends from now on, in [`Sim::captured`].
    pub fn capture_from(&mut self, from: SocketAddr) {
        self.captured = Some((from, Vec::new()));
    }
    fn send(&mut self, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>) {
        if let Some((source, copies)) = self.captured.as_mut()
            && *source == from
        {
            copies.push(bytes.clone());
        }
        // DTLS (first byte 20 to 63, RFC 7983) varies in size from run to run.
        let stable_len = (!matches!(bytes.first(), Some(20..=63))).then_some(bytes.len());
        let identity = stable_identity(&bytes);
        let arrival = self.arrival(from, to, bytes.len(), (stable_len, identity));
        if let Some(trace) = self.trace.as_mut() {
            trace.push(TracedDatagram {
                sent_at: self.now - self.start,
                from,
                to,
                len: stable_len,
                lost: arrival.is_none(),
            });
        }
        let Some(at) = arrival else {
            return;
        };
        self.flight.push(Datagram {
            at,
            from,
            to,
            bytes,
        });
    }
    /// When a datagram of `len` bytes sent from `from` to `to` now arrives, or `None` if it
    /// is lost (decided on `stable_len`, its size unless it varies between runs).
    fn arrival(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        len: usize,
        (stable_len, identity): (Option<usize>, u64),
    ) -> Option<Instant> {
        let loss = self
            .downlink_loss
            .get(&to)
            .copied()
            .unwrap_or(0.0)
            .max(self.uplink_loss.get(&from).copied().unwrap_or(0.0))
            .max(self.loss);
        if loss > 0.0
            && self
                .losses
                .lost(self.now, self.start, (from, to, stable_len, identity), loss)
        {
            return None;
        }
        let mut at = self.now + LATENCY;
        if let Some((bps, free_at)) = self.limits.get_mut(&to) {
            // A bottleneck: packets queue behind each other; a queue over 250 ms drops.
            let departure = (*free_at).max(self.now);
            if departure - self.now > Duration::from_millis(250) {
                return None;
            }
            let serialize = Duration::from_micros(len as u64 * 8 * 1_000_000 / *bps);
            *free_at = departure + serialize;
            at = departure + serialize + LATENCY;
        }
        Some(at)
    }
    /// Limits what client `index` can receive to `bps` (`None` lifts the limit).
    pub fn limit_downlink(&mut self, index: usize, bps: Option<u64>) {
        let client = &self.clients[index];
        for addr in [client.addr, client.sub_addr] {
            match bps {
                Some(bps) => {
                    self.limits.insert(addr, (bps, self.now));
                }
                None => {
                    self.limits.remove(&addr);
                }
            }
        }
    }
    /// Loses a fraction `p` of what client `index` is sent (0 ends it).
    pub fn lose_downlink(&mut self, index: usize, p: f64) {
        let client = &self.clients[index];
        for addr in [client.addr, client.sub_addr] {
            self.downlink_loss.insert(addr, p);
        }
    }
    /// Loses a fraction `p` of what client `index` sends (0 ends it).
    pub fn lose_uplink(&mut self, index: usize, p: f64) {
        let client = &self.clients[index];
        for addr in [client.addr, client.sub_addr] {
            self.uplink_loss.insert(addr, p);
        }
    }
    /// Runs the world for `duration` in steps of [`STEP`].
    pub fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.now += STEP;
            self.tick();
        }
    }
    /// Runs until `done` holds (or panics after `limit`).
    pub fn run_until(&mut self, limit: Duration, what: &str, done: impl Fn(&Sim) -> bool) {
        let end = self.now + limit;
        while !done(self) {
            if self.now >= end {
                for c in &self.clients {
                    let kinds: Vec<String> = c
                        .signals
                        .iter()
                        .map(|s| format!("{s:?}").chars().take(60).collect())
                        .collect();
                    eprintln!(
                        "{}: connected={} sub_connected={:?} closed={} sent v{} a{} got v{} a{}\n  signals: {kinds:#?}",
                        c.identity,
                        c.publisher.is_connected(),
                        c.subscriber.as_ref().map(|s| s.is_connected()),
                        c.closed,
                        c.sent_video_frames,
                        c.sent_audio_frames,
                        c.frames(MediaKind::Video).len(),
                        c.frames(MediaKind::Audio).len(),
                    );
                }
                eprintln!(
                    "core: {:?}\n{}",
                    self.core.snapshot("visit"),
                    self.core.debug_state()
                );
                panic!("timed out waiting for: {what}");
            }
            self.now += STEP;
            self.tick();
        }
    }
    fn tick(&mut self) {
        let now = self.now;
        // Deliver due datagrams.
        let (mut due, later): (Vec<Datagram>, Vec<Datagram>) = std::mem::take(&mut self.flight)
            .into_iter()
            .partition(|d| d.at <= now);
        due.sort_by_key(|d| d.at);
        self.flight = later;
        let server_reads = self.server_reads_every.is_none_or(|every| {
            (now - self.start)
                .as_micros()
                .is_multiple_of(every.as_micros())
        });
        // What reaches the server in one step is one receive batch, as the driver's
        // `recvmmsg` hands it over: each packet in, then one flush.
        let mut server_batch = false;
        for d in due {
            if d.to == self.server {
                if !server_reads {
                    self.flight.push(d);
                    continue;
                }
                let udp = str0m::net::Protocol::Udp;
                self.core.receive_at(now, d.at, udp, d.from, &d.bytes);
                server_batch = true;
                continue;
            }
            for client in self.clients.iter_mut().filter(|c| !c.closed) {
                for (rtc, addr) in client.rtcs() {
                    if addr == d.to
                        && let Ok(receive) =
                            Receive::new(str0m::net::Protocol::Udp, d.from, d.to, &d.bytes)
                    {
                        let _ = rtc.handle_input(Input::Receive(now, receive));
                    }
                }
            }
        }
        if server_batch {
            self.core.flush(now);
            self.pump();
        }
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.core.handle_timeout(now);
            self.pump();
        }
        for index in 0..self.clients.len() {
            self.produce_media(index);
            self.poll_client(index);
        }
    }
}

/// A VP8 frame str0m recognises: the frame tag's low bit is 0 for a keyframe (which also
/// carries the start code and a 640x360 size).
fn vp8_frame(keyframe: bool, len: usize) -> Vec<u8> {
    let mut frame = if keyframe {
        vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]
    } else {
        vec![0x11, 0x02, 0x00]
    };
    frame.resize(len, 0x55);
    frame
}
