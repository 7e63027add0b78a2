//! LiveKit's `RoomService` operations on the core: rooms, participants, live permission
//! changes, server-side mutes, subscriptions and data. The HTTP (Twirp) surface is in
//! `crate::rtc::twirp`; this is the sans-IO half, called by the driver with `now`.

use std::time::{Duration, Instant};

use livekit_protocol as proto;
use proto::participant_info::State;
use proto::{DisconnectReason, signal_response};

use super::core::{ConnId, Core};

/// One room service call (the request messages of `livekit_room.proto`).
#[derive(Debug, Clone)]
pub enum RoomServiceCall {
    /// `CreateRoom`.
    CreateRoom(Box<proto::CreateRoomRequest>),
    /// `ListRooms`.
    ListRooms(proto::ListRoomsRequest),
    /// `DeleteRoom`: everyone is disconnected.
    DeleteRoom(proto::DeleteRoomRequest),
    /// `ListParticipants`.
    ListParticipants(proto::ListParticipantsRequest),
    /// `GetParticipant`.
    GetParticipant(proto::RoomParticipantIdentity),
    /// `RemoveParticipant`.
    RemoveParticipant(proto::RoomParticipantIdentity),
    /// `UpdateParticipant`: metadata, name, attributes, permissions (applied live).
    UpdateParticipant(proto::UpdateParticipantRequest),
    /// `MutePublishedTrack`.
    MutePublishedTrack(proto::MuteRoomTrackRequest),
    /// `UpdateSubscriptions`.
    UpdateSubscriptions(proto::UpdateSubscriptionsRequest),
    /// `SendData`.
    SendData(proto::SendDataRequest),
}

impl RoomServiceCall {
    /// The one room the call is about; `None` for `ListRooms`, which asks every room
    /// (a sharded driver asks every shard and merges the lists).
    pub fn room(&self) -> Option<&str> {
        match self {
            Self::CreateRoom(r) => Some(&r.name),
            Self::ListRooms(_) => None,
            Self::DeleteRoom(r) => Some(&r.room),
            Self::ListParticipants(r) => Some(&r.room),
            Self::GetParticipant(r) | Self::RemoveParticipant(r) => Some(&r.room),
            Self::UpdateParticipant(r) => Some(&r.room),
            Self::MutePublishedTrack(r) => Some(&r.room),
            Self::UpdateSubscriptions(r) => Some(&r.room),
            Self::SendData(r) => Some(&r.room),
        }
    }
}

/// The reply of a call (the response messages of `livekit_room.proto`).
#[derive(Debug)]
pub enum RoomServiceReply {
    /// `CreateRoom`.
    Room(proto::Room),
    /// `ListRooms`.
    Rooms(proto::ListRoomsResponse),
    /// `ListParticipants`.
    Participants(proto::ListParticipantsResponse),
    /// `GetParticipant`, `UpdateParticipant`.
    Participant(proto::ParticipantInfo),
    /// `MutePublishedTrack`.
    Track(proto::MuteRoomTrackResponse),
    /// Calls whose response message is empty.
    Empty,
}

/// Why a call failed (Twirp error codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomServiceError {
    /// No such room, participant or track.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is incomplete.
    #[error("{0}")]
    InvalidArgument(&'static str),
}

type Outcome = Result<RoomServiceReply, RoomServiceError>;

impl Core {
    /// Carries out one room service call.
    pub fn room_service(&mut self, now: Instant, unix_ms: i64, call: RoomServiceCall) -> Outcome {
        use RoomServiceCall as C;
        let outcome = match call {
            C::CreateRoom(r) => self.create_room(now, unix_ms, *r),
            C::ListRooms(r) => Ok(RoomServiceReply::Rooms(proto::ListRoomsResponse {
                rooms: self.list_rooms(&r.names),
            })),
            C::DeleteRoom(r) => self.delete_room(now, &r.room),
            C::ListParticipants(r) => {
                let conns = self.members(&r.room)?;
                let participants = conns
                    .iter()
                    .filter_map(|c| self.participants.get(c))
                    .map(|p| p.info(State::Active))
                    .collect();
                Ok(RoomServiceReply::Participants(
                    proto::ListParticipantsResponse { participants },
                ))
            }
            C::GetParticipant(r) => {
                let conn = self.find(&r.room, &r.identity)?;
                let info = self.participants.get(&conn).map(|p| p.info(State::Active));
                info.map(RoomServiceReply::Participant)
                    .ok_or(RoomServiceError::NotFound("participant"))
            }
            C::RemoveParticipant(r) => {
                let conn = self.find(&r.room, &r.identity)?;
                self.remove_participant(now, conn, DisconnectReason::ParticipantRemoved, true);
                Ok(RoomServiceReply::Empty)
            }
            C::UpdateParticipant(r) => self.update_participant(now, r),
            C::MutePublishedTrack(r) => self.mute_published_track(r),
            C::UpdateSubscriptions(r) => {
                let conn = self.find(&r.room, &r.identity)?;
                let update = proto::UpdateSubscription {
                    track_sids: r.track_sids,
                    subscribe: r.subscribe,
                    participant_tracks: r.participant_tracks,
                };
                self.signal(
                    now,
                    conn,
                    proto::signal_request::Message::Subscription(update),
                );
                Ok(RoomServiceReply::Empty)
            }
            C::SendData(r) => self.send_data(r),
        };
        self.drive(now);
        outcome
    }

    fn members(&self, room: &str) -> Result<Vec<ConnId>, RoomServiceError> {
        self.rooms
            .get(room)
            .map(|r| r.members.clone())
            .ok_or(RoomServiceError::NotFound("room"))
    }

    fn find(&self, room: &str, identity: &str) -> Result<ConnId, RoomServiceError> {
        self.members(room)?
            .into_iter()
            .find(|c| {
                self.participants
                    .get(c)
                    .is_some_and(|p| p.grant.identity == identity)
            })
            .ok_or(RoomServiceError::NotFound("participant"))
    }

    fn create_room(
        &mut self,
        now: Instant,
        unix_ms: i64,
        request: proto::CreateRoomRequest,
    ) -> Outcome {
        if request.name.is_empty() {
            return Err(RoomServiceError::InvalidArgument("room name is required"));
        }
        let room = self.room_entry(now, &request.name, unix_ms);
        if room.members.is_empty() && room.empty_since.is_none() {
            room.empty_since = Some(now);
        }
        if request.empty_timeout > 0 {
            room.empty_timeout = Some(Duration::from_secs(request.empty_timeout.into()));
        }
        if !request.metadata.is_empty() {
            room.metadata = request.metadata;
        }
        room.max_participants = request.max_participants;
        let members = room.members.len() as u32;
        Ok(RoomServiceReply::Room(room.info(members)))
    }

    fn list_rooms(&self, names: &[String]) -> Vec<proto::Room> {
        let mut rooms: Vec<proto::Room> = self
            .rooms
            .values()
            .filter(|r| names.is_empty() || names.contains(&r.name))
            .map(|r| r.info(r.members.len() as u32))
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }

    fn delete_room(&mut self, now: Instant, name: &str) -> Outcome {
        for conn in self.members(name)? {
            self.remove_participant(now, conn, DisconnectReason::RoomDeleted, true);
        }
        if let Some(room) = self.rooms.remove(name) {
            self.webhook("room_finished", Some(room.info(0)), None, None);
        }
        tracing::info!("sfu room deleted by the room service");
        Ok(RoomServiceReply::Empty)
    }

    fn update_participant(
        &mut self,
        now: Instant,
        request: proto::UpdateParticipantRequest,
    ) -> Outcome {
        let conn = self.find(&request.room, &request.identity)?;
        let Some(p) = self.participants.get_mut(&conn) else {
            return Err(RoomServiceError::NotFound("participant"));
        };
        super::metadata::apply_identity_update(
            p,
            request.name,
            request.metadata,
            request.attributes,
        );
        let mut revoked_subscribe = false;
        let mut granted_subscribe = false;
        if let Some(permission) = request.permission {
            revoked_subscribe = p.grant.can_subscribe && !permission.can_subscribe;
            granted_subscribe = !p.grant.can_subscribe && permission.can_subscribe;
            p.grant.can_publish = permission.can_publish;
            p.grant.can_subscribe = permission.can_subscribe;
            p.grant.can_publish_data = permission.can_publish_data;
            p.grant.hidden = permission.hidden;
            p.grant.can_update_metadata = permission.can_update_metadata;
            p.grant.can_publish_sources = permission
                .can_publish_sources
                .iter()
                .filter_map(|s| proto::TrackSource::try_from(*s).ok())
                .filter_map(super::info::source_name)
                .map(str::to_string)
                .collect();
        }
        // Revoked `canPublish`, or `canPublishSources` narrowed: what is no longer
        // allowed stops now, not at the next publish.
        self.unpublish_forbidden(now, conn);
        if revoked_subscribe {
            self.unsubscribe(now, conn, |_| true);
        }
        if granted_subscribe {
            self.subscribe_to_existing(conn);
        }
        // The participant learns its new permissions from its own update.
        let Some(info) = self.participants.get(&conn).map(|p| p.info(State::Active)) else {
            return Err(RoomServiceError::NotFound("participant"));
        };
        let update = proto::ParticipantUpdate {
            participants: vec![info.clone()],
        };
        self.send(conn, signal_response::Message::Update(update));
        if !info.permission.as_ref().is_some_and(|p| p.hidden) {
            self.broadcast_update(conn, State::Active);
        }
        Ok(RoomServiceReply::Participant(info))
    }

    /// Removes the tracks `conn` publishes that its grant no longer allows.
    fn unpublish_forbidden(&mut self, now: Instant, conn: ConnId) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let grant = p.grant.clone();
        let allowed = |t: &super::participant::UpTrack| {
            let source = proto::TrackSource::try_from(t.info.source).unwrap_or_default();
            super::signaling::may_publish(&grant, source)
        };
        let (kept, forbidden): (Vec<_>, Vec<_>) = p.published.drain(..).partition(allowed);
        p.published = kept;
        let tracks = forbidden.into_iter().map(|t| t.info).collect();
        self.tracks_taken_down(now, conn, tracks);
    }

    /// Tells `conn`, the webhooks and the room's subscribers that `tracks` (already
    /// removed from `conn`'s published tracks) are gone.
    pub(crate) fn tracks_taken_down(
        &mut self,
        now: Instant,
        conn: ConnId,
        tracks: Vec<proto::TrackInfo>,
    ) {
        let Some(p) = self.participants.get(&conn) else {
            return;
        };
        if tracks.is_empty() {
            return;
        }
        let (room, info) = (p.room.clone(), p.info(State::Active));
        let sids: Vec<String> = tracks.iter().map(|t| t.sid.clone()).collect();
        for track in tracks {
            let room = self.room_info(&room);
            self.webhook("track_unpublished", room, Some(info.clone()), Some(track));
        }
        for sid in &sids {
            let unpublished = proto::TrackUnpublishedResponse {
                track_sid: sid.clone(),
            };
            self.send(
                conn,
                signal_response::Message::TrackUnpublished(unpublished),
            );
        }
        for other in self.room_peers(conn) {
            self.unsubscribe(now, other, |d| sids.contains(&d.track_sid));
        }
    }

    fn mute_published_track(&mut self, request: proto::MuteRoomTrackRequest) -> Outcome {
        let conn = self.find(&request.room, &request.identity)?;
        let Some(p) = self.participants.get_mut(&conn) else {
            return Err(RoomServiceError::NotFound("participant"));
        };
        let Some(track) = p
            .published
            .iter_mut()
            .find(|t| t.info.sid == request.track_sid)
        else {
            return Err(RoomServiceError::NotFound("track"));
        };
        track.info.muted = request.muted;
        let info = track.info.clone();
        p.version += 1;
        let hidden = p.grant.hidden;
        let mute = proto::MuteTrackRequest {
            sid: request.track_sid,
            muted: request.muted,
        };
        self.send(conn, signal_response::Message::Mute(mute));
        if !hidden {
            self.broadcast_update(conn, State::Active);
        }
        Ok(RoomServiceReply::Track(proto::MuteRoomTrackResponse {
            track: Some(info),
        }))
    }

    #[allow(deprecated)] // `kind` is deprecated upstream, yet clients still read it.
    fn send_data(&mut self, request: proto::SendDataRequest) -> Outcome {
        let members = self.members(&request.room)?;
        let lossy = request.kind == proto::data_packet::Kind::Lossy as i32;
        let packet = proto::DataPacket {
            kind: request.kind,
            destination_identities: request.destination_identities.clone(),
            value: Some(proto::data_packet::Value::User(proto::UserPacket {
                payload: request.data,
                topic: request.topic,
                nonce: request.nonce,
                ..Default::default()
            })),
            ..Default::default()
        };
        let mut destinations = request.destination_identities;
        for sid in &request.destination_sids {
            let identity = members
                .iter()
                .filter_map(|c| self.participants.get(c))
                .find(|p| &p.sid == sid)
                .map(|p| p.grant.identity.clone());
            destinations.extend(identity);
        }
        self.deliver_data(&members, &packet, lossy, &destinations);
        Ok(RoomServiceReply::Empty)
    }
}
