//! A participant changing its own name, metadata or attributes
//! (`UpdateParticipantMetadata`: livekit-client's `setName`, `setMetadata` and
//! `setAttributes`), when its token grants `canUpdateOwnMetadata`. The room service's
//! `UpdateParticipant` changes the same fields through [`apply_identity_update`].
//!
//! Names and metadata can carry PHI (a patient's name), so none of it is ever logged:
//! only the participant's connection id and the outcome.

use std::collections::HashMap;

use livekit_protocol as proto;
use proto::participant_info::State;
use proto::request_response::Reason;
use proto::signal_response;

use super::core::{ConnId, Core};
use super::participant::Participant;

/// Longest display name accepted, in bytes (LiveKit's default limit).
pub(crate) const MAX_NAME_BYTES: usize = 256;
/// Most metadata accepted, in bytes (LiveKit's default limit).
pub(crate) const MAX_METADATA_BYTES: usize = 64_000;
/// Most attributes accepted, keys and values together, in bytes (LiveKit's default).
pub(crate) const MAX_ATTRIBUTES_BYTES: usize = 64_000;

/// Whether a change fits the limits, once applied to `p`.
fn within_limits(
    p: &Participant,
    name: &str,
    metadata: &str,
    attributes: &HashMap<String, String>,
) -> bool {
    let mut merged = p.attributes.clone();
    merge_attributes(&mut merged, attributes.clone());
    let attributes_bytes: usize = merged.iter().map(|(k, v)| k.len() + v.len()).sum();
    name.len() <= MAX_NAME_BYTES
        && metadata.len() <= MAX_METADATA_BYTES
        && attributes_bytes <= MAX_ATTRIBUTES_BYTES
}

/// Sets the attributes given; an empty value deletes its key.
fn merge_attributes(into: &mut HashMap<String, String>, changes: HashMap<String, String>) {
    for (key, value) in changes {
        if value.is_empty() {
            into.remove(&key);
        } else {
            into.insert(key, value);
        }
    }
}

/// Applies a change of name, metadata or attributes: an empty name or metadata leaves
/// it as it is, an attribute with an empty value is removed. The version rises.
pub(crate) fn apply_identity_update(
    p: &mut Participant,
    name: String,
    metadata: String,
    attributes: HashMap<String, String>,
) {
    if !metadata.is_empty() {
        p.grant.metadata = metadata;
    }
    if !name.is_empty() {
        p.grant.name = name;
    }
    merge_attributes(&mut p.attributes, attributes);
    p.version += 1;
}

impl Core {
    /// `UpdateParticipantMetadata` from `conn`: applied if its grant allows and it fits
    /// the limits; the participant learns of it from its own update (and the room from
    /// the usual one, unless it is hidden), and a request with an id is answered.
    pub(crate) fn update_own_metadata(
        &mut self,
        conn: ConnId,
        update: proto::UpdateParticipantMetadata,
    ) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let reason = if !p.grant.can_update_metadata {
            Reason::NotAllowed
        } else if !within_limits(p, &update.name, &update.metadata, &update.attributes) {
            Reason::LimitExceeded
        } else {
            apply_identity_update(p, update.name, update.metadata, update.attributes);
            Reason::Ok
        };
        let hidden = p.grant.hidden;
        tracing::debug!(conn, ?reason, "sfu participant updates its own metadata");
        if reason == Reason::Ok {
            if let Some(info) = self.participants.get(&conn).map(|p| p.info(State::Active)) {
                let update = proto::ParticipantUpdate {
                    participants: vec![info],
                };
                self.send(conn, signal_response::Message::Update(update));
            }
            if !hidden {
                self.broadcast_update(conn, State::Active);
            }
        }
        if update.request_id != 0 {
            let message = match reason {
                Reason::NotAllowed => "the token does not allow updating own metadata",
                Reason::LimitExceeded => "name, metadata or attributes too large",
                _ => "",
            };
            let response = proto::RequestResponse {
                request_id: update.request_id,
                reason: reason as i32,
                message: message.to_string(),
                ..Default::default()
            };
            self.send(conn, signal_response::Message::RequestResponse(response));
        }
    }
}
