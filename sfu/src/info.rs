//! LiveKit wire descriptions (`ParticipantInfo`, `TrackInfo`, `JoinResponse`) of core state.

use livekit_protocol as proto;
use proto::participant_info::State;

use super::core::{Core, PeerMode, Room};
use super::participant::Participant;

/// The LiveKit server behaviour level the embedded SFU follows (`server_info.version`;
/// clients use it to decide which features they may rely on).
pub(crate) const LIVEKIT_COMPAT_VERSION: &str = "1.9.0";
/// Protocol version spoken (`livekit-client` 2.2x speaks 16–17).
pub(crate) const PROTOCOL_VERSION: i32 = 16;
/// Seconds between client pings, and of silence before either side gives up.
pub(crate) const PING_INTERVAL_SECS: i32 = 5;
/// See [`PING_INTERVAL_SECS`].
pub(crate) const PING_TIMEOUT_SECS: i32 = 15;

impl Participant {
    /// How others (and the participant itself) see it.
    pub(crate) fn info(&self, state: State) -> proto::ParticipantInfo {
        proto::ParticipantInfo {
            sid: self.sid.clone(),
            identity: self.grant.identity.clone(),
            name: self.grant.name.clone(),
            metadata: self.grant.metadata.clone(),
            state: state as i32,
            tracks: self.published.iter().map(|t| t.info.clone()).collect(),
            joined_at: self.joined_unix_ms / 1000,
            joined_at_ms: self.joined_unix_ms,
            version: self.version,
            permission: Some(proto::ParticipantPermission {
                can_subscribe: self.grant.can_subscribe,
                can_publish: self.grant.can_publish,
                can_publish_data: self.grant.can_publish_data,
                can_publish_sources: self
                    .grant
                    .can_publish_sources
                    .iter()
                    .filter_map(|s| source_from_name(s))
                    .map(|s| s as i32)
                    .collect(),
                hidden: self.grant.hidden,
                can_update_metadata: self.grant.can_update_metadata,
                ..Default::default()
            }),
            is_publisher: !self.published.is_empty(),
            attributes: self.attributes.clone(),
            ..Default::default()
        }
    }
}

/// The token name of a source (`TrackSource::Camera` → `camera`).
pub(crate) fn source_name(source: proto::TrackSource) -> Option<&'static str> {
    match source {
        proto::TrackSource::Camera => Some("camera"),
        proto::TrackSource::Microphone => Some("microphone"),
        proto::TrackSource::ScreenShare => Some("screen_share"),
        proto::TrackSource::ScreenShareAudio => Some("screen_share_audio"),
        _ => None,
    }
}

/// `camera` → `TrackSource::Camera`, as in a token's `canPublishSources`.
pub(crate) fn source_from_name(name: &str) -> Option<proto::TrackSource> {
    match name {
        "camera" => Some(proto::TrackSource::Camera),
        "microphone" => Some(proto::TrackSource::Microphone),
        "screen_share" => Some(proto::TrackSource::ScreenShare),
        "screen_share_audio" => Some(proto::TrackSource::ScreenShareAudio),
        _ => None,
    }
}

impl Room {
    pub(crate) fn info(&self, participants: u32) -> proto::Room {
        proto::Room {
            sid: self.sid.clone(),
            name: self.name.clone(),
            creation_time: self.created_unix_ms / 1000,
            creation_time_ms: self.created_unix_ms,
            num_participants: participants,
            metadata: self.metadata.clone(),
            max_participants: self.max_participants,
            empty_timeout: self
                .empty_timeout
                .map(|t| t.as_secs() as u32)
                .unwrap_or_default(),
            ..Default::default()
        }
    }
}

impl Core {
    /// The first message a participant gets.
    pub(crate) fn join_response(&self, conn: u64) -> Option<proto::JoinResponse> {
        let me = self.participants.get(&conn)?;
        let room = self.rooms.get(&me.room)?;
        let others: Vec<proto::ParticipantInfo> = room
            .members
            .iter()
            .filter(|c| **c != conn)
            .filter_map(|c| self.participants.get(c))
            .filter(|p| !p.grant.hidden)
            .map(|p| p.info(State::Active))
            .collect();
        Some(proto::JoinResponse {
            room: Some(room.info(room.members.len() as u32)),
            participant: Some(me.info(State::Joined)),
            other_participants: others,
            server_version: LIVEKIT_COMPAT_VERSION.to_string(),
            subscriber_primary: me.mode == PeerMode::Dual,
            ping_interval: PING_INTERVAL_SECS,
            ping_timeout: PING_TIMEOUT_SECS,
            ice_servers: me.ice_servers.clone(),
            server_info: Some(proto::ServerInfo {
                edition: proto::server_info::Edition::Standard as i32,
                version: LIVEKIT_COMPAT_VERSION.to_string(),
                protocol: PROTOCOL_VERSION,
                node_id: format!("bedside-{}", env!("CARGO_PKG_VERSION")),
                ..Default::default()
            }),
            ..Default::default()
        })
    }
}
