//! The waiting room's live state: who is present (a heartbeat with a TTL), in what
//! order they arrived, who was admitted or rejected, each meeting's live status, and a
//! publish/subscribe channel of [`MeetingEvent`]s for the clinician's queue.
//!
//! PostgreSQL holds the record (participants' states and times, under RLS); this store
//! holds what changes every few seconds and must reach every node at once. One trait,
//! two implementations chosen by configuration: [`memory::MemoryWaitingRoom`] on one
//! node (the default) and [`redis::RedisWaitingRoom`] (`REDIS_URL`) for several nodes.
//! Both pass the same suite (`suite_test.rs`). Entries hold ids only, never names.

pub mod memory;
pub mod redis;

use std::time::Duration;

use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An admission decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Let in: media may flow.
    Admitted,
    /// Turned away.
    Rejected,
}

impl Decision {
    /// `admitted` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Admitted => "admitted",
            Decision::Rejected => "rejected",
        }
    }
}

/// Someone in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// The participant.
    pub participant_id: Uuid,
    /// When they first arrived (kept across reloads and brief disconnects), Unix ms.
    pub arrived_at_ms: i64,
}

/// A change in a meeting, pushed to its subscribers (the clinician's queue, the
/// patient's page). Ids and states only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MeetingEvent {
    /// A participant's state changed (`waiting`, `admitted`, `in_call`, `left`, ...).
    Participant {
        /// Who.
        participant_id: Uuid,
        /// Their new state.
        state: String,
    },
    /// The meeting's status changed (`waiting`, `ringing`, `in_call`, `ended`).
    Status {
        /// The new status.
        status: String,
    },
    /// A participant ran the device check (fetch the meeting for its result).
    DeviceCheck {
        /// Who.
        participant_id: Uuid,
    },
    /// A chat message was stored (fetch it; the text never travels in events).
    Message {
        /// Its id.
        id: i64,
    },
}

/// Store operations. Every method is for one meeting; errors are the backend's
/// (Redis unreachable), never "not found".
#[async_trait::async_trait]
pub trait WaitingRoomStore: Send + Sync + std::fmt::Debug + 'static {
    /// Marks `participant` present for `ttl`; the first call also queues them (a later
    /// one keeps their place). Returns their arrival time, Unix ms.
    async fn heartbeat(
        &self,
        meeting: Uuid,
        participant: Uuid,
        ttl: Duration,
    ) -> anyhow::Result<i64>;
    /// Ends `participant`'s presence at once (they left); their place is kept.
    async fn depart(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<()>;
    /// Whether `participant` is present now.
    async fn is_present(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<bool>;
    /// Records a decision; the participant leaves the queue.
    async fn decide(
        &self,
        meeting: Uuid,
        participant: Uuid,
        decision: Decision,
    ) -> anyhow::Result<()>;
    /// The decision on `participant`, if any.
    async fn decision(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<Option<Decision>>;
    /// Present participants without a decision, in arrival order.
    async fn queue(&self, meeting: Uuid) -> anyhow::Result<Vec<Waiting>>;
    /// Sets the meeting's live status.
    async fn set_status(&self, meeting: Uuid, status: &str) -> anyhow::Result<()>;
    /// The meeting's live status, if set.
    async fn status(&self, meeting: Uuid) -> anyhow::Result<Option<String>>;
    /// Sends `event` to every subscriber of `meeting`, on every node.
    async fn publish(&self, meeting: Uuid, event: &MeetingEvent) -> anyhow::Result<()>;
    /// Events of `meeting` from now on.
    async fn subscribe(&self, meeting: Uuid) -> anyhow::Result<BoxStream<'static, MeetingEvent>>;
    /// Forgets everything about `meeting` (it ended).
    async fn clear(&self, meeting: Uuid) -> anyhow::Result<()>;
}

/// Unix time in ms (the store's clock for arrival order).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
#[path = "suite_test.rs"]
mod suite;
