//! A virtual network, a virtual clock and str0m peers standing in for browsers, around a
//! real [`Core`]. Deterministic: a seeded generator decides losses; nothing sleeps.

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

use crate::rtc::grants::JoinGrant;
use crate::sfu::core::{ConnId, Core, CoreConfig, CoreInput, CoreOutput, PeerMode};

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
    pub received: Vec<Received>,
    pub keyframe_requests: usize,
    pub data: Vec<proto::DataPacket>,
    pub closed: bool,
    /// Local sending mids (audio, video), once negotiated.
    pub audio_mid: Option<Mid>,
    pub video_mid: Option<Mid>,
    pub simulcast: bool,
    publishing: bool,
    force_keyframe: bool,
    frames: u64,
    channels: HashMap<String, ChannelId>,
    pub sent_video_frames: u64,
    pub sent_audio_frames: u64,
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

/// Seeded xorshift: the only source of randomness in a simulation.
struct Rng(u64);

impl Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 10_000) as f64 / 10_000.0 < p
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
    rng: Rng,
    /// Probability that any datagram is lost.
    pub loss: f64,
    next_conn: ConnId,
}

impl Sim {
    pub fn new(seed: u64) -> Self {
        let now = Instant::now();
        let server: SocketAddr = "10.0.0.1:7882".parse().unwrap_or_else(|_| unreachable!());
        let core = Core::new(CoreConfig {
            public_addr: server,
            local_addr: server,
            tcp: None,
            empty_room_timeout: Duration::from_secs(20),
            ice_timeout: Duration::from_secs(20),
        });
        Self {
            now,
            core,
            clients: Vec::new(),
            server,
            flight: Vec::new(),
            limits: HashMap::new(),
            rng: Rng(seed.max(1)),
            loss: 0.0,
            next_conn: 1,
        }
    }

    fn new_rtc(&self, addr: SocketAddr) -> Rtc {
        let mut rtc = Rtc::builder()
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(self.now);
        let candidate = Candidate::host(addr, "udp").unwrap_or_else(|e| panic!("candidate: {e}"));
        rtc.add_local_candidate(candidate);
        rtc
    }

    /// A client joins `room`; if `publish`, it then publishes microphone and camera.
    pub fn join(&mut self, identity: &str, room: &str, mode: PeerMode, publish: bool) -> usize {
        self.join_as(identity, room, mode, publish, true)
    }

    /// Like [`Sim::join`], with the token's `canPublish` chosen.
    pub fn join_as(
        &mut self,
        identity: &str,
        room: &str,
        mode: PeerMode,
        publish: bool,
        can_publish: bool,
    ) -> usize {
        let index = self.clients.len();
        let conn = self.next_conn;
        self.next_conn += 1;
        let addr: SocketAddr = format!("10.1.0.{}:5000", index + 1)
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let sub_addr: SocketAddr = format!("10.1.0.{}:5001", index + 1)
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let mut publisher = self.new_rtc(addr);
        let subscriber = (mode == PeerMode::Dual).then(|| self.new_rtc(sub_addr));
        // Like livekit-client: data channels and (single mode) receive sections first.
        let mut api = publisher.sdp_api();
        api.add_channel_with_config(ChannelConfig {
            label: "_reliable".into(),
            ..Default::default()
        });
        let mut recv_mids = Vec::new();
        if mode == PeerMode::Single {
            recv_mids.push(api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None));
            recv_mids.push(api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None));
        }
        let (offer, pending) = api
            .apply()
            .unwrap_or_else(|| unreachable!("channels are a change"));
        let grant = JoinGrant {
            identity: identity.into(),
            name: identity.into(),
            room: room.into(),
            can_publish,
            can_publish_sources: vec![],
            can_subscribe: true,
            can_publish_data: true,
            hidden: false,
            metadata: String::new(),
        };
        let request = proto::JoinRequest {
            publisher_offer: Some(proto::SessionDescription {
                r#type: "offer".into(),
                sdp: offer.to_sdp_string(),
                id: 1,
                ..Default::default()
            }),
            ..Default::default()
        };
        self.clients.push(Client {
            conn,
            identity: identity.into(),
            publisher,
            subscriber,
            addr,
            sub_addr,
            pending: Some(pending),
            renegotiate: false,
            queued: Vec::new(),
            recv_mids,
            next_offer_id: 2,
            signals: Vec::new(),
            received: Vec::new(),
            keyframe_requests: 0,
            data: Vec::new(),
            closed: false,
            audio_mid: None,
            video_mid: None,
            simulcast: true,
            publishing: false,
            force_keyframe: true,
            frames: 0,
            channels: HashMap::new(),
            sent_video_frames: 0,
            sent_audio_frames: 0,
        });
        let input = CoreInput::Join {
            conn,
            grant,
            request: Box::new(request),
            mode,
            unix_ms: 1_700_000_000_000,
        };
        self.core.handle_input(self.now, input);
        self.pump();
        if publish {
            self.publish(index);
        }
        index
    }

    /// Announces and negotiates a microphone and a (simulcast) camera track.
    pub fn publish(&mut self, index: usize) {
        for (cid, kind, source) in [
            (
                "cid-audio",
                proto::TrackType::Audio,
                proto::TrackSource::Microphone,
            ),
            (
                "cid-video",
                proto::TrackType::Video,
                proto::TrackSource::Camera,
            ),
        ] {
            let layers = if kind == proto::TrackType::Video {
                LAYERS
                    .iter()
                    .enumerate()
                    .map(|(q, (rid, size))| proto::VideoLayer {
                        quality: q as i32,
                        rid: rid.to_string(),
                        // What the frames of the layer amount to at one per 35 ms.
                        bitrate: (size * 8 * 1000 / 35) as u32,
                        width: 320 << q,
                        height: 180 << q,
                        ..Default::default()
                    })
                    .collect()
            } else {
                vec![]
            };
            let request = proto::AddTrackRequest {
                cid: cid.into(),
                r#type: kind as i32,
                source: source as i32,
                layers,
                ..Default::default()
            };
            self.signal(index, signal_request::Message::AddTrack(request));
        }
        let client = &mut self.clients[index];
        client.publishing = true;
        client
            .queued
            .push((MediaKind::Audio, Direction::SendOnly, Some("cid-audio")));
        client
            .queued
            .push((MediaKind::Video, Direction::SendOnly, Some("cid-video")));
        self.offer(index);
    }

    /// Client `index`'s signaling socket drops (no `leave`).
    pub fn drop_signal(&mut self, index: usize) {
        let conn = self.clients[index].conn;
        let input = CoreInput::Disconnect {
            conn,
            resumable: true,
        };
        self.core.handle_input(self.now, input);
        self.pump();
    }

    /// Client `index` reconnects its signaling with `reconnect=1` and `sid`, as
    /// livekit-client does to resume.
    pub fn resume(&mut self, index: usize, room: &str, sid: &str) {
        let conn = self.next_conn;
        self.next_conn += 1;
        let client = &mut self.clients[index];
        client.conn = conn;
        client.closed = false;
        let grant = JoinGrant {
            identity: client.identity.clone(),
            name: client.identity.clone(),
            room: room.into(),
            can_publish: true,
            can_publish_sources: vec![],
            can_subscribe: true,
            can_publish_data: true,
            hidden: false,
            metadata: String::new(),
        };
        let request = proto::JoinRequest {
            reconnect: true,
            participant_sid: sid.into(),
            ..Default::default()
        };
        let mode = if client.subscriber.is_some() {
            PeerMode::Dual
        } else {
            PeerMode::Single
        };
        let input = CoreInput::Join {
            conn,
            grant,
            request: Box::new(request),
            mode,
            unix_ms: 1_700_000_000_000,
        };
        self.core.handle_input(self.now, input);
        self.pump();
    }

    /// Sends a signal request from client `index`.
    pub fn signal(&mut self, index: usize, message: signal_request::Message) {
        let conn = self.clients[index].conn;
        self.core.handle_input(
            self.now,
            CoreInput::Signal {
                conn,
                message: Box::new(message),
            },
        );
        self.pump();
    }

    /// The client offers its publisher connection's pending changes (or all, again).
    fn offer(&mut self, index: usize) {
        let client = &mut self.clients[index];
        if client.pending.is_some() {
            client.renegotiate = true;
            return;
        }
        // A browser offers its transceivers' own direction, whatever the last answer said.
        let mut api = client.publisher.sdp_api();
        for mid in &client.recv_mids {
            api.set_direction(*mid, Direction::RecvOnly);
        }
        // A browser's createOffer always renegotiates; str0m needs a change for an offer,
        // so an offer with nothing else to say adds a spare receive section.
        if client.queued.is_empty() && !api.has_changes() {
            client
                .queued
                .push((MediaKind::Audio, Direction::RecvOnly, None));
        }
        let simulcast = client.simulcast.then(|| {
            let mut s = Simulcast::new();
            for (rid, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        for (kind, dir, track) in client.queued.drain(..) {
            let stream = track.map(|_| "stream".to_string());
            let layers = (kind == MediaKind::Video && track.is_some())
                .then(|| simulcast.clone())
                .flatten();
            let mid = api.add_media(kind, dir, stream, track.map(str::to_string), layers);
            match track {
                Some("cid-audio") => client.audio_mid = Some(mid),
                Some("cid-video") => client.video_mid = Some(mid),
                _ => client.recv_mids.push(mid),
            }
        }
        let Some((offer, pending)) = api.apply() else {
            return;
        };
        client.pending = Some(pending);
        let id = client.next_offer_id;
        client.next_offer_id += 1;
        let description = proto::SessionDescription {
            r#type: "offer".into(),
            sdp: offer.to_sdp_string(),
            id,
            ..Default::default()
        };
        self.signal(index, signal_request::Message::Offer(description));
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
                CoreOutput::Webhook(_) => {}
                CoreOutput::Close { conn, .. } => {
                    if let Some(client) = self.clients.iter_mut().find(|c| c.conn == conn) {
                        client.closed = true;
                    }
                }
            }
        }
        for (index, message) in follow_ups {
            self.client_signal(index, message);
        }
    }

    fn client_signal(&mut self, index: usize, message: signal_response::Message) {
        self.clients[index].signals.push(message.clone());
        match message {
            signal_response::Message::Answer(answer) => {
                let client = &mut self.clients[index];
                let Some(pending) = client.pending.take() else {
                    return;
                };
                let sdp = SdpAnswer::from_sdp_string(&answer.sdp)
                    .unwrap_or_else(|e| panic!("answer: {e}"));
                client
                    .publisher
                    .sdp_api()
                    .accept_answer(pending, sdp)
                    .unwrap_or_else(|e| panic!("accept: {e}"));
                if std::mem::take(&mut client.renegotiate) {
                    self.offer(index);
                }
            }
            signal_response::Message::Offer(offer) => {
                let client = &mut self.clients[index];
                let sdp =
                    SdpOffer::from_sdp_string(&offer.sdp).unwrap_or_else(|e| panic!("offer: {e}"));
                let Some(sub) = client.subscriber.as_mut() else {
                    return;
                };
                let answer = sub
                    .sdp_api()
                    .accept_offer(sdp)
                    .unwrap_or_else(|e| panic!("accept offer: {e}"));
                let description = proto::SessionDescription {
                    r#type: "answer".into(),
                    sdp: answer.to_sdp_string(),
                    id: offer.id,
                    ..Default::default()
                };
                self.signal(index, signal_request::Message::Answer(description));
            }
            signal_response::Message::MediaSectionsRequirement(need) => {
                let client = &mut self.clients[index];
                for _ in 0..need.num_audios {
                    client
                        .queued
                        .push((MediaKind::Audio, Direction::RecvOnly, None));
                }
                for _ in 0..need.num_videos {
                    client
                        .queued
                        .push((MediaKind::Video, Direction::RecvOnly, None));
                }
                self.offer(index);
            }
            signal_response::Message::Leave(_) => self.clients[index].closed = true,
            _ => {}
        }
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>) {
        if self.loss > 0.0 && self.rng.chance(self.loss) {
            return;
        }
        let mut at = self.now + LATENCY;
        if let Some((bps, free_at)) = self.limits.get_mut(&to) {
            // A bottleneck: packets queue behind each other; a queue over 250 ms drops.
            let departure = (*free_at).max(self.now);
            if departure - self.now > Duration::from_millis(250) {
                return;
            }
            let serialize = Duration::from_micros(bytes.len() as u64 * 8 * 1_000_000 / *bps);
            *free_at = departure + serialize;
            at = departure + serialize + LATENCY;
        }
        self.flight.push(Datagram {
            at,
            from,
            to,
            bytes,
        });
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
        for d in due {
            if d.to == self.server {
                self.core.handle_datagram(now, d.from, &d.bytes);
                self.pump();
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
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.core.handle_timeout(now);
            self.pump();
        }
        for index in 0..self.clients.len() {
            self.produce_media(index);
            self.poll_client(index);
        }
    }

    /// A publishing client's "encoder": 20 ms audio frames, 30 fps video on every layer.
    fn produce_media(&mut self, index: usize) {
        let now = self.now;
        let client = &mut self.clients[index];
        if !client.publishing || client.closed || !client.publisher.is_connected() {
            return;
        }
        client.frames += 1;
        let tick = client.frames;
        let step_ms = STEP.as_millis() as u64;
        if (tick * step_ms).is_multiple_of(20)
            && let Some(mid) = client.audio_mid
            && let Some(pt) = client
                .publisher
                .writer(mid)
                .and_then(|w| w.payload_params().next().map(|p| p.pt()))
            && let Some(writer) = client.publisher.writer(mid)
        {
            let time = MediaTime::new(tick * step_ms * 48, Frequency::FORTY_EIGHT_KHZ);
            if writer.write(pt, now, time, vec![7u8; AUDIO_BYTES]).is_ok() {
                client.sent_audio_frames += 1;
            }
        }
        if (tick * step_ms).is_multiple_of(35)
            && let Some(mid) = client.video_mid
        {
            let keyframe =
                std::mem::take(&mut client.force_keyframe) || (tick * step_ms).is_multiple_of(3000);
            let time = MediaTime::new(tick * step_ms * 90, Frequency::NINETY_KHZ);
            let layers: Vec<(Option<Rid>, usize)> = if client.simulcast {
                LAYERS
                    .iter()
                    .map(|(r, n)| (Some(Rid::from(*r)), *n))
                    .collect()
            } else {
                vec![(None, LAYERS[1].1)]
            };
            let mut wrote = false;
            for (rid, len) in layers {
                let Some(pt) = client
                    .publisher
                    .writer(mid)
                    .and_then(|w| w.payload_params().next().map(|p| p.pt()))
                else {
                    continue;
                };
                let Some(mut writer) = client.publisher.writer(mid) else {
                    continue;
                };
                if let Some(rid) = rid {
                    writer = writer.rid(rid);
                }
                wrote |= writer
                    .write(pt, now, time, vp8_frame(keyframe, len))
                    .is_ok();
            }
            if wrote {
                client.sent_video_frames += 1;
            }
        }
    }

    fn poll_client(&mut self, index: usize) {
        let now = self.now;
        let mut transmits = Vec::new();
        let client = &mut self.clients[index];
        if client.closed {
            return;
        }
        let mut received = Vec::new();
        let mut keyframe_requests = 0;
        let mut data = Vec::new();
        let mut opened = Vec::new();
        for (rtc, _) in client.rtcs() {
            let _ = rtc.handle_input(Input::Timeout(now));
            loop {
                match rtc.poll_output() {
                    Ok(Output::Transmit(t)) => {
                        transmits.push((t.source, t.destination, t.contents.to_vec()))
                    }
                    Ok(Output::Timeout(_)) | Err(_) => break,
                    Ok(Output::Event(event)) => match event {
                        Event::MediaData(d) => {
                            let keyframe = matches!(&d.codec_extra, str0m::format::CodecExtra::Vp8(e) if e.is_keyframe);
                            let kind = if d.params.spec().clock_rate == Frequency::NINETY_KHZ {
                                MediaKind::Video
                            } else {
                                MediaKind::Audio
                            };
                            received.push(Received {
                                contiguous: d.contiguous,
                                kind,
                                keyframe,
                                len: d.data.len(),
                                at: now,
                            });
                        }
                        Event::KeyframeRequest(_) => keyframe_requests += 1,
                        Event::ChannelOpen(id, label) => opened.push((label, id)),
                        Event::ChannelData(d) => {
                            if let Ok(packet) =
                                <proto::DataPacket as prost::Message>::decode(&d.data[..])
                            {
                                data.push(packet);
                            }
                        }
                        _ => {}
                    },
                }
            }
        }
        client.received.extend(received);
        client.keyframe_requests += keyframe_requests;
        if keyframe_requests > 0 {
            client.force_keyframe = true;
        }
        client.data.extend(data);
        client.channels.extend(opened);
        for (from, to, bytes) in transmits {
            self.send(from, to, bytes);
        }
    }

    /// Client `index` asks for a keyframe of the remote track it receives on `mid`.
    pub fn request_keyframe(&mut self, index: usize, mid: Mid) {
        let rtc = self.clients[index].receiving_rtc();
        if let Some(mut writer) = rtc.writer(mid) {
            let _ = writer.request_keyframe(None, KeyframeRequestKind::Pli);
        }
    }

    /// Client `index` sends a user data packet on its reliable channel.
    pub fn send_data(&mut self, index: usize, payload: &[u8], destinations: &[&str]) {
        let packet = proto::DataPacket {
            destination_identities: destinations.iter().map(|s| s.to_string()).collect(),
            value: Some(proto::data_packet::Value::User(proto::UserPacket {
                payload: payload.to_vec(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let bytes = prost::Message::encode_to_vec(&packet);
        let client = &mut self.clients[index];
        let Some(id) = client.channels.get("_reliable").copied() else {
            panic!("{} has no open _reliable channel", client.identity);
        };
        if let Some(mut channel) = client.publisher.channel(id) {
            let _ = channel.write(true, &bytes);
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
