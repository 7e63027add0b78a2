//! The media plane as the control plane sees it: LiveKit's public contracts only.
//! Access tokens (`livekit-api`'s `AccessToken`), the `RoomService` Twirp API
//! (`RoomClient`) and signed webhooks. The same code drives the embedded SFU (its
//! Twirp endpoint on this server's own port) and an external LiveKit deployment
//! (`LIVEKIT_URL`).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::room::{RoomClient, UpdateParticipantOptions};
use livekit_api::services::{ServerError, ServiceError};
use livekit_protocol as proto;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::model::MediaRights;
use app::meetings::ParticipantRole;

/// Lifetime of a participant's access token: long enough to connect, short enough that
/// a leaked one is soon useless (LiveKit refreshes tokens of connected clients itself).
pub const TOKEN_TTL: Duration = Duration::from_secs(10 * 60);

/// Whether a live permission change reached the participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The participant is connected and has its new rights now.
    Live,
    /// Not connected: its next token carries the rights instead.
    NotInRoom,
}

/// Tokens and room control for one LiveKit-compatible server.
pub struct MediaPlane {
    client_url: String,
    api_key: String,
    api_secret: SecretString,
    rooms: RoomClient,
}

impl std::fmt::Debug for MediaPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaPlane")
            .field("client_url", &self.client_url)
            .finish_non_exhaustive()
    }
}

impl MediaPlane {
    /// `client_url` is what browsers connect to (`ws(s)://`); `api_url` is where the
    /// room service answers (`http(s)://`, the same server).
    pub fn new(client_url: &str, api_url: &str, api_key: &str, api_secret: &SecretString) -> Self {
        Self {
            client_url: client_url.to_owned(),
            rooms: RoomClient::with_api_key(api_url, api_key, api_secret.expose_secret()),
            api_key: api_key.to_owned(),
            api_secret: api_secret.clone(),
        }
    }

    /// Where clients connect.
    pub fn client_url(&self) -> &str {
        &self.client_url
    }

    /// A participant's access token: one room, identity = participant id, role and
    /// workspace as attributes, [`TOKEN_TTL`].
    pub fn participant_token(
        &self,
        room: &str,
        identity: Uuid,
        name: &str,
        role: ParticipantRole,
        workspace_id: Uuid,
        rights: MediaRights,
    ) -> anyhow::Result<String> {
        let grants = VideoGrants {
            room_join: true,
            room: room.to_owned(),
            room_admin: rights.admin,
            can_publish: Some(rights.publish),
            can_subscribe: Some(rights.subscribe),
            can_publish_data: Some(rights.data),
            hidden: rights.hidden,
            ..Default::default()
        };
        let attributes = HashMap::from([
            ("role".to_owned(), role.as_str().to_owned()),
            ("workspace_id".to_owned(), workspace_id.to_string()),
        ]);
        AccessToken::with_api_key(&self.api_key, self.api_secret.expose_secret())
            .with_identity(&identity.to_string())
            .with_name(name)
            .with_grants(grants)
            .with_attributes(attributes)
            .with_ttl(TOKEN_TTL)
            .to_jwt()
            .context("signing a LiveKit access token")
    }

    /// A dev demo token (`/dev/call`): join `room` as `identity` with every participant
    /// right (publishing only if `publish`). Only the dev-only route mints these.
    pub fn demo_token(&self, room: &str, identity: &str, publish: bool) -> anyhow::Result<String> {
        let grants = VideoGrants {
            room_join: true,
            room: room.to_owned(),
            can_publish: Some(publish),
            can_subscribe: Some(true),
            can_publish_data: Some(true),
            ..Default::default()
        };
        AccessToken::with_api_key(&self.api_key, self.api_secret.expose_secret())
            .with_identity(identity)
            .with_name(identity)
            .with_grants(grants)
            .with_ttl(TOKEN_TTL)
            .to_jwt()
            .context("signing a demo token")
    }

    /// A recorder's token: `roomRecord` for one room, hidden, subscribe only.
    pub fn recorder_token(&self, room: &str) -> anyhow::Result<String> {
        let grants = VideoGrants {
            room_join: true,
            room_record: true,
            room: room.to_owned(),
            can_publish: Some(false),
            can_subscribe: Some(true),
            can_publish_data: Some(false),
            hidden: true,
            recorder: true,
            ..Default::default()
        };
        AccessToken::with_api_key(&self.api_key, self.api_secret.expose_secret())
            .with_identity(&format!("recorder-{room}"))
            .with_grants(grants)
            .with_ttl(TOKEN_TTL)
            .to_jwt()
            .context("signing a recorder token")
    }

    /// Gives a connected participant `rights` live (`UpdateParticipant`): no reconnect,
    /// no new ICE handshake.
    pub async fn apply_rights(
        &self,
        room: &str,
        identity: Uuid,
        rights: MediaRights,
    ) -> anyhow::Result<Applied> {
        let options = UpdateParticipantOptions {
            permission: Some(proto::ParticipantPermission {
                can_publish: rights.publish,
                can_subscribe: rights.subscribe,
                can_publish_data: rights.data,
                hidden: rights.hidden,
                ..Default::default()
            }),
            ..Default::default()
        };
        match self
            .rooms
            .update_participant(room, &identity.to_string(), options)
            .await
        {
            Ok(_) => Ok(Applied::Live),
            Err(error) if is_not_found(&error) => Ok(Applied::NotInRoom),
            Err(error) => Err(anyhow::anyhow!(
                "room service UpdateParticipant: {}",
                describe(&error)
            )),
        }
    }

    /// Disconnects one participant (absent is fine).
    pub async fn remove(&self, room: &str, identity: Uuid) -> anyhow::Result<()> {
        match self
            .rooms
            .remove_participant(room, &identity.to_string())
            .await
        {
            Ok(()) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(anyhow::anyhow!(
                "room service RemoveParticipant: {}",
                describe(&error)
            )),
        }
    }

    /// Ends the room: everyone is disconnected (absent is fine).
    pub async fn end_room(&self, room: &str) -> anyhow::Result<()> {
        match self.rooms.delete_room(room).await {
            Ok(()) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(anyhow::anyhow!(
                "room service DeleteRoom: {}",
                describe(&error)
            )),
        }
    }
}

fn is_not_found(error: &ServiceError) -> bool {
    matches!(error, ServiceError::Twirp(ServerError::Twirp(code)) if code.code == "not_found")
}

/// The error without URLs or server texts that could quote identities.
fn describe(error: &ServiceError) -> String {
    match error {
        ServiceError::Twirp(ServerError::Twirp(code)) => format!("twirp {}", code.code),
        ServiceError::Twirp(ServerError::Request(error)) => {
            format!(
                "request failed (connect: {}, timeout: {})",
                error.is_connect(),
                error.is_timeout()
            )
        }
        other => other.to_string(),
    }
}
