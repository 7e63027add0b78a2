//! Rooms: their state, and the core's ways to open one and to find who else is in it.

use std::time::{Duration, Instant};

use livekit_protocol as proto;

use super::core::{ConnId, Core, HOUSEKEEPING_INTERVAL};

/// One room: its members in join order.
#[derive(Debug)]
pub(crate) struct Room {
    pub(crate) sid: String,
    pub(crate) name: String,
    pub(crate) created_unix_ms: i64,
    pub(crate) members: Vec<ConnId>,
    pub(crate) empty_since: Option<Instant>,
    /// Set by the room service (`CreateRoom`); otherwise the configured default.
    pub(crate) empty_timeout: Option<Duration>,
    pub(crate) metadata: String,
    /// 0 = unlimited.
    pub(crate) max_participants: u32,
    /// Who the room was last told is speaking, by participant sid, with their level.
    pub(crate) speakers: std::collections::BTreeMap<String, f32>,
}

impl Room {
    pub(crate) fn new(sid: String, name: &str, unix_ms: i64) -> Self {
        Self {
            sid,
            name: name.to_string(),
            created_unix_ms: unix_ms,
            members: Vec::new(),
            empty_since: None,
            empty_timeout: None,
            metadata: String::new(),
            max_participants: 0,
            speakers: Default::default(),
        }
    }
}

impl Core {
    /// The room, created on first join.
    pub(crate) fn room_entry(&mut self, now: Instant, name: &str, unix_ms: i64) -> &mut Room {
        if self.housekeeping_at.is_none() {
            self.housekeeping_at = Some(now + HOUSEKEEPING_INTERVAL);
        }
        if self.speakers_at.is_none() {
            self.speakers_at = Some(now + super::speakers::SPEAKER_INTERVAL);
        }
        if !self.rooms.contains_key(name) {
            let room = Room::new(self.config.sids.room(), name, unix_ms);
            tracing::info!(room_sid = %room.sid, "sfu room opened");
            self.webhook("room_started", Some(room.info(0)), None, None);
            self.rooms.insert(name.to_string(), room);
        }
        let sid = &mut self.config.sids;
        self.rooms
            .entry(name.to_string())
            .or_insert_with(|| Room::new(sid.room(), name, unix_ms))
    }

    /// The room's wire description, for webhooks.
    pub(crate) fn room_info(&self, name: &str) -> Option<proto::Room> {
        self.rooms.get(name).map(|r| r.info(r.members.len() as u32))
    }

    /// Other members of `conn`'s room.
    pub(crate) fn room_peers(&self, conn: ConnId) -> Vec<ConnId> {
        let Some(room) = self
            .participants
            .get(&conn)
            .and_then(|p| self.rooms.get(&p.room))
        else {
            return Vec::new();
        };
        room.members
            .iter()
            .copied()
            .filter(|c| *c != conn)
            .collect()
    }
}
