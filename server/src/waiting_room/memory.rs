//! The waiting room in this process's memory: the default on one node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Decision, MeetingEvent, Waiting, WaitingRoomStore, now_ms};

/// Events buffered per subscriber before a slow one starts missing them.
const EVENT_BUFFER: usize = 256;

#[derive(Debug, Default)]
struct Room {
    status: Option<String>,
    /// Arrival time per participant (Unix ms): the queue order.
    arrived: HashMap<Uuid, i64>,
    /// Presence deadline per participant.
    present_until: HashMap<Uuid, Instant>,
    decisions: HashMap<Uuid, Decision>,
}

/// In-memory waiting rooms.
#[derive(Debug, Default)]
pub struct MemoryWaitingRoom {
    rooms: Mutex<HashMap<Uuid, Room>>,
    channels: Mutex<HashMap<Uuid, broadcast::Sender<MeetingEvent>>>,
}

impl MemoryWaitingRoom {
    fn with_room<T>(&self, meeting: Uuid, f: impl FnOnce(&mut Room) -> T) -> T {
        // A poisoned lock means a panic mid-update of plain maps; the data is still usable.
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        f(rooms.entry(meeting).or_default())
    }

    fn channel(&self, meeting: Uuid) -> broadcast::Sender<MeetingEvent> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(meeting)
            .or_insert_with(|| broadcast::channel(EVENT_BUFFER).0)
            .clone()
    }
}

#[async_trait::async_trait]
impl WaitingRoomStore for MemoryWaitingRoom {
    async fn heartbeat(
        &self,
        meeting: Uuid,
        participant: Uuid,
        ttl: Duration,
    ) -> anyhow::Result<i64> {
        Ok(self.with_room(meeting, |room| {
            room.present_until.insert(participant, Instant::now() + ttl);
            *room.arrived.entry(participant).or_insert_with(now_ms)
        }))
    }

    async fn depart(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<()> {
        self.with_room(meeting, |room| room.present_until.remove(&participant));
        Ok(())
    }

    async fn is_present(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<bool> {
        let now = Instant::now();
        Ok(self.with_room(meeting, |room| {
            room.present_until
                .get(&participant)
                .is_some_and(|until| *until > now)
        }))
    }

    async fn decide(
        &self,
        meeting: Uuid,
        participant: Uuid,
        decision: Decision,
    ) -> anyhow::Result<()> {
        self.with_room(meeting, |room| {
            room.decisions.insert(participant, decision);
            room.arrived.remove(&participant);
        });
        Ok(())
    }

    async fn decision(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<Option<Decision>> {
        Ok(self.with_room(meeting, |room| room.decisions.get(&participant).copied()))
    }

    async fn queue(&self, meeting: Uuid) -> anyhow::Result<Vec<Waiting>> {
        let now = Instant::now();
        Ok(self.with_room(meeting, |room| {
            let mut queue: Vec<Waiting> = room
                .arrived
                .iter()
                .filter(|(p, _)| room.present_until.get(p).is_some_and(|until| *until > now))
                .filter(|(p, _)| !room.decisions.contains_key(p))
                .map(|(p, at)| Waiting {
                    participant_id: *p,
                    arrived_at_ms: *at,
                })
                .collect();
            queue.sort_by_key(|w| (w.arrived_at_ms, w.participant_id));
            queue
        }))
    }

    async fn set_status(&self, meeting: Uuid, status: &str) -> anyhow::Result<()> {
        self.with_room(meeting, |room| room.status = Some(status.to_owned()));
        Ok(())
    }

    async fn status(&self, meeting: Uuid) -> anyhow::Result<Option<String>> {
        Ok(self.with_room(meeting, |room| room.status.clone()))
    }

    async fn publish(&self, meeting: Uuid, event: &MeetingEvent) -> anyhow::Result<()> {
        // No subscriber is not an error: nobody is watching this meeting right now.
        let _ = self.channel(meeting).send(event.clone());
        Ok(())
    }

    async fn subscribe(&self, meeting: Uuid) -> anyhow::Result<BoxStream<'static, MeetingEvent>> {
        let receiver = self.channel(meeting).subscribe();
        Ok(tokio_stream_from(receiver).boxed())
    }

    async fn clear(&self, meeting: Uuid) -> anyhow::Result<()> {
        self.rooms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&meeting);
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&meeting);
        Ok(())
    }
}

/// A broadcast receiver as a stream (a lagging subscriber skips what it missed).
fn tokio_stream_from(
    receiver: broadcast::Receiver<MeetingEvent>,
) -> impl futures_util::Stream<Item = MeetingEvent> + Send + 'static {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
