//! Read-only views of the core: which rooms are open and who is in them, for the room
//! service, tests and diagnostics.

use super::core::Core;

/// A point-in-time view of one participant, for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantSnapshot {
    /// Participant sid.
    pub sid: String,
    /// Identity.
    pub identity: String,
    /// Published track sids.
    pub published: Vec<String>,
    /// Track sids this participant receives (or is being set up to receive).
    pub subscribed: Vec<String>,
}

impl Core {
    /// Room names currently open.
    pub fn room_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.rooms.keys().cloned().collect();
        names.sort();
        names
    }

    /// The participants of a room, in join order.
    pub fn snapshot(&self, room: &str) -> Vec<ParticipantSnapshot> {
        let Some(room) = self.rooms.get(room) else {
            return Vec::new();
        };
        room.members
            .iter()
            .filter_map(|conn| self.participants.get(conn))
            .map(|p| ParticipantSnapshot {
                sid: p.sid.clone(),
                identity: p.grant.identity.clone(),
                published: p.published.iter().map(|t| t.info.sid.clone()).collect(),
                subscribed: p.down.iter().map(|d| d.track_sid.clone()).collect(),
            })
            .collect()
    }

    /// Internal state of every participant, for failing simulation tests.
    #[cfg(test)]
    pub(crate) fn debug_state(&self) -> String {
        let mut out = String::new();
        for p in self.participants.values() {
            out.push_str(&format!(
                "{} downlink={:?} pending_offer={} pub_connected={} sub_connected={:?}\n  up: {:?}\n  down: {:?}\n",
                p.grant.identity,
                p.downlink_bps,
                p.pending_offer.is_some(),
                p.publisher.connected,
                p.subscriber.as_ref().map(|s| s.connected),
                p.published.iter().map(|t| (&t.info.sid, t.mid, &t.rids)).collect::<Vec<_>>(),
                p.down.iter().map(|d| (&d.track_sid, d.state, &d.layer, d.target, d.needs_keyframe)).collect::<Vec<_>>(),
            ));
        }
        out
    }
}
