//! The signaling session's state machine (see the crate docs for the driving loop).

use std::collections::{HashMap, VecDeque};

use prost::Message as _;

use crate::ext::{SectionAssignment, SectionsAssigned};
use crate::proto;
use proto::{signal_request, signal_response};

/// Which peer connection a description or candidate belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The connection the client offers on (the only one in single-connection mode).
    Publisher,
    /// The connection the server offers on (two-connection mode).
    Subscriber,
}

impl Target {
    fn from_wire(value: i32) -> Self {
        if value == proto::SignalTarget::Subscriber as i32 {
            Target::Subscriber
        } else {
            Target::Publisher
        }
    }

    fn wire(self) -> i32 {
        match self {
            Target::Publisher => proto::SignalTarget::Publisher as i32,
            Target::Subscriber => proto::SignalTarget::Subscriber as i32,
        }
    }
}

/// What the driver (and the UI above it) must act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The room accepted the join.
    Joined(Box<proto::JoinResponse>),
    /// A resume was accepted: restart ICE, keep everything else.
    Resumed(Box<proto::ReconnectResponse>),
    /// Apply the server's answer to our offer `id` on the publisher.
    Answer {
        /// SDP.
        sdp: String,
        /// The offer it answers.
        id: u32,
        /// Media section → track id, when the server says (single connection).
        mid_to_track_id: HashMap<String, String>,
    },
    /// The server offers on `target` (the subscriber, or a server-initiated
    /// renegotiation); answer with [`Session::send_answer`].
    Offer {
        /// Which connection.
        target: Target,
        /// SDP.
        sdp: String,
        /// Its id, echoed in the answer.
        id: u32,
    },
    /// Add this remote ICE candidate (`RTCIceCandidateInit` JSON) now: its connection
    /// has a remote description.
    RemoteCandidate {
        /// Which connection.
        target: Target,
        /// The candidate as JSON.
        candidate_init: String,
    },
    /// Remote tracks the server bound to open receive sections (Bedside's extension,
    /// [`crate::ext`]): each section's media is that track's from now on.
    SectionsAssigned(Vec<SectionAssignment>),
    /// Participants changed (joined, updated, left); our own entry carries our current
    /// permission.
    Participants(Vec<proto::ParticipantInfo>),
    /// Our own permission changed (a live grant or revocation): publish or stop.
    PermissionChanged(proto::ParticipantPermission),
    /// A track we announced was published: its `cid` and the server's info.
    TrackPublished {
        /// Our client id of the track.
        cid: String,
        /// The server's view (sid and all).
        track: Box<proto::TrackInfo>,
    },
    /// The server took one of our tracks down (e.g. a narrowed grant).
    TrackUnpublished {
        /// Its sid.
        sid: String,
    },
    /// Turn publish layers on or off (dynacast).
    SubscribedQuality(Box<proto::SubscribedQualityUpdate>),
    /// Streams paused or resumed by the server (bandwidth).
    StreamState(proto::StreamStateUpdate),
    /// The server asks us to leave (or to rejoin elsewhere).
    Leave(Box<proto::LeaveRequest>),
    /// A fresh token to use for the next reconnect.
    TokenRefreshed(String),
    /// A new round-trip time measurement, in ms.
    Rtt(u64),
    /// Nothing heard within the ping timeout: the server is gone (see `recovery`).
    SignalLost,
    /// Any other message, for the layers above.
    Other(Box<signal_response::Message>),
}

/// A frame the server sent that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// Not a protobuf `SignalResponse`.
    #[error("undecodable signal frame")]
    Undecodable,
    /// A `SignalResponse` without a message.
    #[error("empty signal frame")]
    Empty,
    /// The first message was not a join (or reconnect) response.
    #[error("the server did not answer the join")]
    NoJoinResponse,
}

/// Defaults until the join response says otherwise (LiveKit's).
const DEFAULT_PING_INTERVAL_MS: u64 = 5_000;
const DEFAULT_PING_TIMEOUT_MS: u64 = 15_000;

/// One signaling session (one WebSocket's life; a resume starts a new one with
/// [`Session::resuming`]).
#[derive(Debug)]
pub struct Session {
    joined: bool,
    resuming: bool,
    next_offer_id: u32,
    /// The offer awaiting its answer, per target (only the latest counts).
    pending_offer: Option<u32>,
    remote_description: HashMap<Target, bool>,
    queued_candidates: HashMap<Target, Vec<String>>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    last_heard_ms: u64,
    next_ping_ms: u64,
    own_identity: Option<String>,
    own_permission: Option<proto::ParticipantPermission>,
    lost: bool,
}

impl Session {
    /// A session whose socket opened at `now_ms` for a join (the first offer, if any,
    /// went in the join URL with id 1).
    pub fn new(now_ms: u64, offered_in_join: bool) -> Self {
        Self {
            joined: false,
            resuming: false,
            next_offer_id: if offered_in_join { 2 } else { 1 },
            pending_offer: offered_in_join.then_some(1),
            remote_description: HashMap::new(),
            queued_candidates: HashMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            ping_interval_ms: DEFAULT_PING_INTERVAL_MS,
            ping_timeout_ms: DEFAULT_PING_TIMEOUT_MS,
            last_heard_ms: now_ms,
            next_ping_ms: now_ms + DEFAULT_PING_INTERVAL_MS,
            own_identity: None,
            own_permission: None,
            lost: false,
        }
    }

    /// A session for a resume of `previous` (same identity and offer ids; ICE restarts,
    /// so remote descriptions must be set again before candidates apply).
    pub fn resuming(previous: &Session, now_ms: u64) -> Self {
        let mut next = Session::new(now_ms, false);
        next.resuming = true;
        next.next_offer_id = previous.next_offer_id;
        next.own_identity = previous.own_identity.clone();
        next.own_permission = previous.own_permission.clone();
        next.ping_interval_ms = previous.ping_interval_ms;
        next.ping_timeout_ms = previous.ping_timeout_ms;
        next
    }

    /// Whether the join (or resume) was accepted.
    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// One frame from the server. An error leaves the session as it was (the driver
    /// may log and go on, or treat it as a broken server).
    pub fn handle_frame(&mut self, now_ms: u64, bytes: &[u8]) -> Result<(), SignalError> {
        let response =
            proto::SignalResponse::decode(bytes).map_err(|_| SignalError::Undecodable)?;
        let Some(message) = response.message else {
            let assigned = SectionsAssigned::from_frame(bytes).ok_or(SignalError::Empty)?;
            self.last_heard_ms = now_ms;
            if self.joined {
                self.events
                    .push_back(Event::SectionsAssigned(assigned.sections));
            }
            return Ok(());
        };
        self.last_heard_ms = now_ms;
        if !self.joined {
            match message {
                signal_response::Message::Join(join) if !self.resuming => {
                    self.joined = true;
                    self.adopt_ping_settings(join.ping_interval, join.ping_timeout, now_ms);
                    if let Some(me) = &join.participant {
                        self.own_identity = Some(me.identity.clone());
                        self.own_permission = me.permission.clone();
                    }
                    self.events.push_back(Event::Joined(Box::new(join)));
                    return Ok(());
                }
                signal_response::Message::Reconnect(reconnect) if self.resuming => {
                    self.joined = true;
                    self.events.push_back(Event::Resumed(Box::new(reconnect)));
                    return Ok(());
                }
                signal_response::Message::Leave(leave) => {
                    self.events.push_back(Event::Leave(Box::new(leave)));
                    return Ok(());
                }
                _ => return Err(SignalError::NoJoinResponse),
            }
        }
        self.handle_message(message);
        Ok(())
    }

    fn adopt_ping_settings(&mut self, interval_secs: i32, timeout_secs: i32, now_ms: u64) {
        if interval_secs > 0 {
            self.ping_interval_ms = interval_secs as u64 * 1000;
        }
        if timeout_secs > 0 {
            self.ping_timeout_ms = timeout_secs as u64 * 1000;
        }
        self.next_ping_ms = now_ms + self.ping_interval_ms;
    }

    fn handle_message(&mut self, message: signal_response::Message) {
        use signal_response::Message as M;
        let event = match message {
            M::Answer(answer) => {
                // Only the answer to our latest offer counts; older ones are stale.
                if self.pending_offer != Some(answer.id) && answer.id != 0 {
                    return;
                }
                self.pending_offer = None;
                Event::Answer {
                    sdp: answer.sdp,
                    id: answer.id,
                    mid_to_track_id: answer.mid_to_track_id,
                }
            }
            M::Offer(offer) => Event::Offer {
                target: Target::Subscriber,
                sdp: offer.sdp,
                id: offer.id,
            },
            M::Trickle(trickle) => {
                let target = Target::from_wire(trickle.target);
                if self
                    .remote_description
                    .get(&target)
                    .copied()
                    .unwrap_or(false)
                {
                    Event::RemoteCandidate {
                        target,
                        candidate_init: trickle.candidate_init,
                    }
                } else {
                    self.queued_candidates
                        .entry(target)
                        .or_default()
                        .push(trickle.candidate_init);
                    return;
                }
            }
            M::Update(update) => {
                self.note_own_permission(&update.participants);
                Event::Participants(update.participants)
            }
            M::TrackPublished(published) => match published.track {
                Some(track) => Event::TrackPublished {
                    cid: published.cid,
                    track: Box::new(track),
                },
                None => return,
            },
            M::TrackUnpublished(unpublished) => Event::TrackUnpublished {
                sid: unpublished.track_sid,
            },
            M::SubscribedQualityUpdate(update) => Event::SubscribedQuality(Box::new(update)),
            M::StreamStateUpdate(update) => Event::StreamState(update),
            M::Leave(leave) => Event::Leave(Box::new(leave)),
            M::RefreshToken(token) => Event::TokenRefreshed(token),
            M::Pong(_) => return,
            M::PongResp(pong) => {
                let rtt = (self.last_heard_ms as i64 - pong.last_ping_timestamp).max(0) as u64;
                Event::Rtt(rtt)
            }
            other => Event::Other(Box::new(other)),
        };
        self.events.push_back(event);
    }

    fn note_own_permission(&mut self, participants: &[proto::ParticipantInfo]) {
        let Some(identity) = &self.own_identity else {
            return;
        };
        let Some(me) = participants.iter().find(|p| &p.identity == identity) else {
            return;
        };
        if me.permission != self.own_permission
            && let Some(permission) = &me.permission
        {
            self.own_permission = Some(permission.clone());
            self.events
                .push_back(Event::PermissionChanged(permission.clone()));
        }
    }

    /// Our current permission, as the server last said.
    pub fn permission(&self) -> Option<&proto::ParticipantPermission> {
        self.own_permission.as_ref()
    }

    /// The connection on `target` got its remote description: queued remote candidates
    /// are released as [`Event::RemoteCandidate`], in order.
    pub fn remote_description_set(&mut self, target: Target) {
        self.remote_description.insert(target, true);
        for candidate_init in self.queued_candidates.remove(&target).unwrap_or_default() {
            self.events.push_back(Event::RemoteCandidate {
                target,
                candidate_init,
            });
        }
    }

    /// The connection on `target` restarts ICE (or renegotiates from scratch): remote
    /// candidates wait again for its next remote description.
    pub fn remote_description_cleared(&mut self, target: Target) {
        self.remote_description.insert(target, false);
    }

    /// Sends a publisher offer; returns its id (its answer is matched by it).
    pub fn send_offer(&mut self, sdp: &str) -> u32 {
        let id = self.next_offer_id;
        self.next_offer_id += 1;
        self.pending_offer = Some(id);
        self.remote_description_cleared(Target::Publisher);
        self.queue(signal_request::Message::Offer(proto::SessionDescription {
            r#type: "offer".into(),
            sdp: sdp.into(),
            id,
            ..Default::default()
        }));
        id
    }

    /// Answers a server offer (`id` from [`Event::Offer`]).
    pub fn send_answer(&mut self, sdp: &str, id: u32) {
        self.queue(signal_request::Message::Answer(proto::SessionDescription {
            r#type: "answer".into(),
            sdp: sdp.into(),
            id,
            ..Default::default()
        }));
    }

    /// Sends one of our ICE candidates (`RTCIceCandidateInit` JSON), or the end of
    /// gathering with `last`.
    pub fn send_candidate(&mut self, target: Target, candidate_init: &str, last: bool) {
        self.queue(signal_request::Message::Trickle(proto::TrickleRequest {
            candidate_init: candidate_init.into(),
            target: target.wire(),
            r#final: last,
        }));
    }

    /// Announces a track before publishing it.
    pub fn add_track(&mut self, request: proto::AddTrackRequest) {
        self.queue(signal_request::Message::AddTrack(request));
    }

    /// Mutes or unmutes a published track (it stays published).
    pub fn mute(&mut self, sid: &str, muted: bool) {
        self.queue(signal_request::Message::Mute(proto::MuteTrackRequest {
            sid: sid.into(),
            muted,
        }));
    }

    /// Subscribes to or unsubscribes from tracks.
    pub fn update_subscription(&mut self, track_sids: Vec<String>, subscribe: bool) {
        self.queue(signal_request::Message::Subscription(
            proto::UpdateSubscription {
                track_sids,
                subscribe,
                ..Default::default()
            },
        ));
    }

    /// Tells the server how a subscribed video is shown (adaptive stream): its size,
    /// or `disabled` when hidden.
    pub fn update_track_settings(&mut self, sid: &str, disabled: bool, width: u32, height: u32) {
        self.queue(signal_request::Message::TrackSetting(
            proto::UpdateTrackSettings {
                track_sids: vec![sid.into()],
                disabled,
                width,
                height,
                ..Default::default()
            },
        ));
    }

    /// Leaves the room.
    pub fn leave(&mut self) {
        self.queue(signal_request::Message::Leave(proto::LeaveRequest {
            can_reconnect: false,
            reason: proto::DisconnectReason::ClientInitiated as i32,
            ..Default::default()
        }));
    }

    fn queue(&mut self, message: signal_request::Message) {
        let request = proto::SignalRequest {
            message: Some(message),
        };
        self.transmit.push_back(request.encode_to_vec());
    }

    /// The next frame to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] is due next.
    pub fn poll_timeout(&self) -> Option<u64> {
        (!self.lost).then(|| {
            self.next_ping_ms
                .min(self.last_heard_ms + self.ping_timeout_ms)
        })
    }

    /// Sends due pings; reports [`Event::SignalLost`] once nothing was heard within the
    /// ping timeout.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.lost {
            return;
        }
        if now_ms >= self.last_heard_ms + self.ping_timeout_ms {
            self.lost = true;
            self.events.push_back(Event::SignalLost);
            return;
        }
        if self.joined && now_ms >= self.next_ping_ms {
            let timestamp = now_ms as i64;
            self.queue(signal_request::Message::Ping(timestamp));
            self.queue(signal_request::Message::PingReq(proto::Ping {
                timestamp,
                rtt: 0,
            }));
            self.next_ping_ms = now_ms + self.ping_interval_ms;
        }
    }
}

#[cfg(test)]
#[path = "session_test.rs"]
mod tests;
