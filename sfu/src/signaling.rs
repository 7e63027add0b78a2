//! Signal requests: join, tracks, mute, subscriptions, leave, offers and answers.

use std::time::Instant;

use livekit_protocol as proto;
use proto::participant_info::State;
use proto::{DisconnectReason, signal_request, signal_response};
use str0m::media::MediaKind;
use str0m::{Candidate, Rtc};

use super::core::{ConnId, Core, CoreOutput, PeerMode};
use super::participant::{
    DATA_BYTES_PER_SECOND, DATA_PACKETS_PER_SECOND, Participant, Peer, Side, UpTrack,
};
use super::rate::TokenBucket;
use crate::JoinGrant;

/// Most tracks one participant may publish at once: camera, microphone, screen and its
/// audio leave ample room; more is abuse, and closes the participant.
pub(crate) const MAX_TRACKS_PER_PARTICIPANT: usize = 16;

/// Starting estimate of a subscriber's downlink, before TWCC feedback refines it.
pub(crate) const INITIAL_DOWNLINK_KBPS: u64 = 1_000;

impl Core {
    /// A new participant session (replacing one with the same identity in the room).
    pub(crate) fn join(
        &mut self,
        now: Instant,
        conn: ConnId,
        grant: JoinGrant,
        request: proto::JoinRequest,
        (mode, open_sections, unix_ms): (PeerMode, bool, i64),
        ice_servers: Vec<proto::IceServer>,
    ) {
        if self.try_resume(conn, &grant.room, &grant.identity, &request) {
            return;
        }
        let duplicate = self.rooms.get(&grant.room).and_then(|room| {
            room.members.iter().copied().find(|c| {
                self.participants
                    .get(c)
                    .is_some_and(|p| p.grant.identity == grant.identity)
            })
        });
        if let Some(old) = duplicate {
            self.remove_participant(now, old, DisconnectReason::DuplicateIdentity, true);
        }
        let full = self.rooms.get(&grant.room).is_some_and(|room| {
            room.max_participants > 0 && room.members.len() as u32 >= room.max_participants
        });
        if full {
            tracing::info!(conn, "sfu refuses a join: room is full");
            let disconnect = proto::leave_request::Action::Disconnect;
            return self.refuse(conn, DisconnectReason::JoinFailure, disconnect);
        }
        let auto_subscribe = request
            .connection_settings
            .as_ref()
            .is_none_or(|s| s.auto_subscribe);
        let participant = Participant {
            sid: self.config.sids.participant(),
            room: grant.room.clone(),
            grant,
            mode,
            open_sections: mode == PeerMode::Single && open_sections,
            joined_unix_ms: unix_ms,
            joined_at: now,
            ice_servers,
            version: 1,
            auto_subscribe,
            attributes: Default::default(),
            downlink_bps: None,
            // Until an estimate says the link is wide, a burst is not risked.
            paced_downlink: true,
            publisher: Peer::new(self.new_rtc(now), self.config.send_beside_str0m),
            subscriber: (mode == PeerMode::Dual)
                .then(|| Peer::new(self.new_rtc(now), self.config.send_beside_str0m)),
            published: Vec::new(),
            down: Vec::new(),
            unsubscribed: Default::default(),
            channels: Default::default(),
            pending_offer: None,
            next_offer_id: 1,
            subscriber_channels_added: false,
            stopped_mids: Vec::new(),
            send_sections: Vec::new(),
            unbound_sections: Vec::new(),
            section_out: Default::default(),
            wants_client_offer: false,
            answered_once: false,
            trickled: Default::default(),
            metrics: Default::default(),
            signal_lost_at: None,
            restart_subscriber_ice: false,
            subscription_permission: None,
            data_packets: TokenBucket::new(
                2.0 * DATA_PACKETS_PER_SECOND,
                DATA_PACKETS_PER_SECOND,
                now,
            ),
            data_bytes: TokenBucket::new(2.0 * DATA_BYTES_PER_SECOND, DATA_BYTES_PER_SECOND, now),
            quality: Default::default(),
            told_speakers: false,
        };
        tracing::info!(conn, participant_sid = %participant.sid, ?mode, "sfu participant joined");
        let room_name = participant.room.clone();
        let hidden = participant.grant.hidden;
        self.participants.insert(conn, participant);
        let room = self.room_entry(now, &room_name, unix_ms);
        room.members.push(conn);
        room.empty_since = None;

        if let Some(join) = self.join_response(conn) {
            let (room, me) = (join.room.clone(), join.participant.clone());
            self.send(conn, signal_response::Message::Join(join));
            self.webhook("participant_joined", room, me, None);
        }
        if !hidden {
            self.broadcast_update(conn, State::Active);
        }
        self.subscribe_to_existing(conn);
        self.needs_negotiation.insert(conn);
        if let Some(offer) = request.publisher_offer {
            self.publisher_offer(now, conn, offer);
        }
    }

    /// A peer connection, built so that its SRTP keys are captured for the path beside
    /// str0m (`fast_rx.rs`).
    fn new_rtc(&self, now: Instant) -> (Rtc, bedside_media::keys::KeySlot) {
        let (mut rtc, keys) = bedside_media::keys::with_key_capture(|| {
            Rtc::builder()
                .set_crypto_provider(bedside_media::keys::capturing_provider())
                .clear_codecs()
                .enable_opus(true, false)
                .enable_vp8(true)
                .enable_h264(true)
                // Sending beside str0m brings its own estimate, pacer and probes
                // (`fast_tx.rs`). str0m's would only pace padding that is then dropped:
                // measured at 128 visits, its pacer and estimator timers were 34,000
                // passes a second, more than half the forwarded packet rate.
                .enable_bwe(
                    (!self.config.send_beside_str0m)
                        .then(|| str0m::bwe::Bitrate::kbps(INITIAL_DOWNLINK_KBPS)),
                )
                .set_stats_interval(Some(std::time::Duration::from_secs(2)))
                // Packet-level forwarding: packets in (`Event::RtpPacket`), packets out
                // (`StreamTx::write_rtp`), no frame assembly and no re-packetizing.
                .set_rtp_mode(true)
                .build(now)
        });
        match Candidate::host(self.config.public_addr, "udp") {
            Ok(candidate) => {
                rtc.add_local_candidate(candidate);
            }
            Err(error) => tracing::warn!(%error, "sfu host candidate refused"),
        }
        if let Some((public, _)) = self.config.tcp {
            let passive = Candidate::builder()
                .tcp()
                .host(public)
                .tcptype(str0m::net::TcpType::Passive)
                .build();
            match passive {
                Ok(candidate) => {
                    rtc.add_local_candidate(candidate);
                }
                Err(error) => tracing::warn!(%error, "sfu tcp candidate refused"),
            }
        }
        (rtc, keys)
    }

    /// Dispatches one signal request.
    pub(crate) fn signal(&mut self, now: Instant, conn: ConnId, message: signal_request::Message) {
        if !self.participants.contains_key(&conn) {
            return;
        }
        use signal_request::Message as M;
        match message {
            M::Offer(offer) => self.publisher_offer(now, conn, offer),
            M::Answer(answer) => self.subscriber_answer(now, conn, answer),
            M::Trickle(trickle) => self.trickle(conn, trickle),
            M::AddTrack(request) => self.add_track(now, conn, request),
            M::Mute(mute) => self.mute(conn, mute),
            M::Subscription(update) => self.update_subscription(now, conn, update),
            M::TrackSetting(settings) => self.track_settings(now, conn, settings),
            M::SubscriptionPermission(permission) => {
                self.subscription_permission(now, conn, permission)
            }
            M::UpdateMetadata(update) => self.update_own_metadata(conn, update),
            M::Leave(_) => {
                self.remove_participant(now, conn, DisconnectReason::ClientInitiated, false)
            }
            other => tracing::debug!(conn, kind = message_kind(&other), "sfu ignores request"),
        }
    }

    /// Closes one participant after a protocol violation; the room carries on.
    pub(crate) fn fail(&mut self, now: Instant, conn: ConnId, what: &str) {
        tracing::info!(conn, what, "sfu closes participant after bad signaling");
        self.remove_participant(now, conn, DisconnectReason::StateMismatch, true);
    }

    // `layers`, `simulcast`, `stereo` and `disable_dtx` are deprecated in favour of
    // per-codec fields, but protocol-16 clients still read them.
    #[allow(deprecated)]
    fn add_track(&mut self, now: Instant, conn: ConnId, request: proto::AddTrackRequest) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let new = !p.published.iter().any(|t| t.cid == request.cid);
        if new && p.published.len() >= MAX_TRACKS_PER_PARTICIPANT {
            return self.fail(now, conn, "too many published tracks");
        }
        let source = proto::TrackSource::try_from(request.source).unwrap_or_default();
        if !may_publish(&p.grant, source) {
            tracing::info!(conn, ?source, "sfu refuses track: not granted");
            return;
        }
        let kind = match proto::TrackType::try_from(request.r#type) {
            Ok(proto::TrackType::Audio) => MediaKind::Audio,
            Ok(proto::TrackType::Video) => MediaKind::Video,
            _ => return tracing::debug!(conn, "sfu ignores non-media track"),
        };
        if let Some(existing) = p.published.iter().find(|t| t.cid == request.cid) {
            let track = Some(existing.info.clone());
            let cid = request.cid;
            let published = proto::TrackPublishedResponse { cid, track };
            return self.send(conn, signal_response::Message::TrackPublished(published));
        }
        let info = proto::TrackInfo {
            sid: self.config.sids.track(),
            r#type: request.r#type,
            name: request.name.clone(),
            muted: request.muted,
            width: request.width,
            height: request.height,
            simulcast: request.layers.len() > 1,
            disable_dtx: request.disable_dtx,
            source: request.source,
            layers: request.layers.clone(),
            stereo: request.stereo,
            disable_red: request.disable_red,
            stream: request.stream.clone(),
            audio_features: request.audio_features.clone(),
            // End-to-end encrypted frames (insertable streams) pass through untouched;
            // subscribers learn from this that they must decrypt.
            encryption: request.encryption,
            ..Default::default()
        };
        p.published.push(UpTrack {
            info: info.clone(),
            cid: request.cid.clone(),
            kind,
            mid: None,
            rids: Vec::new(),
            layer_seen: Default::default(),
            layer_rate: Default::default(),
            last_keyframe_request: Default::default(),
            dynacast: None,
            payload_params: Vec::new(),
            voice: Default::default(),
            temporal_layers: 0,
            frame_rate: Default::default(),
        });
        let index = p.published.len() - 1;
        super::receive_sections::claim_section(p, index);
        p.version += 1;
        let hidden = p.grant.hidden;
        let published = proto::TrackPublishedResponse {
            cid: request.cid,
            track: Some(info.clone()),
        };
        self.send(conn, signal_response::Message::TrackPublished(published));
        let (room, me) = match self.participants.get(&conn) {
            Some(p) => (self.room_info(&p.room), Some(p.info(State::Active))),
            None => (None, None),
        };
        self.webhook("track_published", room, me, Some(info.clone()));
        if !hidden {
            self.broadcast_update(conn, State::Active);
        }
        for other in self.room_peers(conn) {
            self.subscribe(other, conn, &info.sid, false);
        }
    }

    fn mute(&mut self, conn: ConnId, mute: proto::MuteTrackRequest) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let Some(track) = p.published.iter_mut().find(|t| t.info.sid == mute.sid) else {
            return tracing::debug!(conn, "sfu mute for an unknown track");
        };
        track.info.muted = mute.muted;
        p.version += 1;
        if !p.grant.hidden {
            self.broadcast_update(conn, State::Active);
        }
    }

    /// Removes a participant; `notify` tells it why first (server-initiated leave).
    pub(crate) fn remove_participant(
        &mut self,
        now: Instant,
        conn: ConnId,
        reason: DisconnectReason,
        notify: bool,
    ) {
        let Some(mut p) = self.participants.remove(&conn) else {
            return;
        };
        tracing::info!(conn, participant_sid = %p.sid, ?reason, "sfu participant left");
        if notify {
            let leave = proto::LeaveRequest {
                can_reconnect: false,
                reason: reason as i32,
                action: proto::leave_request::Action::Disconnect as i32,
                regions: None,
            };
            self.send(conn, signal_response::Message::Leave(leave));
        }
        self.outputs.push_back(CoreOutput::Close { conn, reason });
        self.forget_routes(conn);
        self.needs_negotiation.remove(&conn);
        p.publisher.rtc.disconnect();
        if let Some(sub) = p.subscriber.as_mut() {
            sub.rtc.disconnect();
        }
        let mut others = Vec::new();
        if let Some(room) = self.rooms.get_mut(&p.room) {
            room.members.retain(|c| *c != conn);
            if room.members.is_empty() {
                room.empty_since = Some(now);
            }
            others = room.members.clone();
        }
        for other in &others {
            self.unsubscribe(now, *other, |d| d.publisher == conn);
        }
        let room_info = self.room_info(&p.room);
        let left = p.info(State::Disconnected);
        for track in &p.published {
            let event = (
                room_info.clone(),
                Some(left.clone()),
                Some(track.info.clone()),
            );
            self.webhook("track_unpublished", event.0, event.1, event.2);
        }
        self.webhook("participant_left", room_info, Some(left), None);
        if !p.grant.hidden {
            p.version += 1;
            let info = p.info(State::Disconnected);
            for other in others {
                let update = proto::ParticipantUpdate {
                    participants: vec![info.clone()],
                };
                self.send(other, signal_response::Message::Update(update));
            }
        }
    }

    /// Tells everyone else in the room about `conn`'s current state.
    pub(crate) fn broadcast_update(&mut self, conn: ConnId, state: State) {
        let Some(info) = self.participants.get(&conn).map(|p| p.info(state)) else {
            return;
        };
        for other in self.room_peers(conn) {
            let update = proto::ParticipantUpdate {
                participants: vec![info.clone()],
            };
            self.send(other, signal_response::Message::Update(update));
        }
    }

    fn trickle(&mut self, conn: ConnId, trickle: proto::TrickleRequest) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let side = match (p.mode, trickle.target) {
            (PeerMode::Dual, t) if t == proto::SignalTarget::Subscriber as i32 => Side::Subscriber,
            _ => Side::Publisher,
        };
        let Some(candidate) = parse_candidate_init(&trickle.candidate_init) else {
            return;
        };
        if let Some(peer) = p.peer_mut(side) {
            peer.rtc.add_remote_candidate(candidate);
            self.dirty.insert((conn, side));
        }
    }
}

/// `canPublish` and `canPublishSources` allow this source.
pub(crate) fn may_publish(grant: &JoinGrant, source: proto::TrackSource) -> bool {
    if !grant.can_publish {
        return false;
    }
    grant.can_publish_sources.is_empty()
        || grant
            .can_publish_sources
            .iter()
            .any(|s| super::info::source_from_name(s) == Some(source))
}

/// The candidate of a trickled `RTCIceCandidateInit` JSON; `None` for end-of-candidates
/// and for candidates str0m cannot use (mDNS `.local` names, TCP).
pub fn parse_candidate_init(json: &str) -> Option<Candidate> {
    #[derive(serde::Deserialize)]
    struct Init {
        #[serde(default)]
        candidate: String,
    }
    let init: Init = serde_json::from_str(json).ok()?;
    let line = init.candidate.trim();
    let line = line.strip_prefix("a=").unwrap_or(line);
    if line.is_empty() {
        return None;
    }
    Candidate::from_sdp_string(line).ok()
}

fn message_kind(message: &signal_request::Message) -> &'static str {
    use signal_request::Message as M;
    match message {
        M::SubscriptionPermission(_) => "subscription_permission",
        M::SyncState(_) => "sync_state",
        M::Simulate(_) => "simulate",
        M::UpdateMetadata(_) => "update_metadata",
        M::Ping(_) | M::PingReq(_) => "ping",
        _ => "other",
    }
}
