//! The waiting room in Redis (`REDIS_URL`), shared by every Bedside node of a clinic.
//!
//! Keys, per meeting `{id}` (ids only, no names):
//! - `call:{id}:status`: the live status;
//! - `call:{id}:presence:{pid}`: present while the key lives (`SET … PX ttl`);
//! - `call:{id}:queue`: sorted set of arrivals (score: first arrival, Unix ms; `ZADD NX`
//!   keeps a place across reloads);
//! - `call:{id}:admitted:{pid}`, `call:{id}:rejected:{pid}`: decisions;
//! - channel `call:{id}:events`: [`MeetingEvent`] JSON for every node's subscribers.
//!
//! Every key expires [`KEY_TTL_SECS`] after its last write, so an abandoned meeting
//! cleans itself up.

use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use uuid::Uuid;

use super::{Decision, MeetingEvent, Waiting, WaitingRoomStore, now_ms};

/// Lifetime of every key after its last write.
pub const KEY_TTL_SECS: i64 = 24 * 3600;

/// The Redis-backed store.
#[derive(Clone)]
pub struct RedisWaitingRoom {
    client: redis::Client,
    connection: ConnectionManager,
}

impl std::fmt::Debug for RedisWaitingRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.write_str("RedisWaitingRoom")
    }
}

fn key(meeting: Uuid, part: &str) -> String {
    format!("call:{meeting}:{part}")
}

impl RedisWaitingRoom {
    /// Connects to `url` (`redis://host:port/db`, or `rediss://` for TLS).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("REDIS_URL is not a valid Redis URL")?;
        let connection = client
            .get_connection_manager()
            .await
            .context("connecting to Redis (REDIS_URL)")?;
        Ok(Self { client, connection })
    }

    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }
}

#[async_trait::async_trait]
impl WaitingRoomStore for RedisWaitingRoom {
    async fn heartbeat(
        &self,
        meeting: Uuid,
        participant: Uuid,
        ttl: Duration,
    ) -> anyhow::Result<i64> {
        let queue = key(meeting, "queue");
        let member = participant.to_string();
        let (_, _, _, arrived): ((), i64, bool, Option<f64>) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(key(meeting, &format!("presence:{participant}")))
            .arg(1)
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .cmd("ZADD")
            .arg(&queue)
            .arg("NX")
            .arg(now_ms())
            .arg(&member)
            .cmd("EXPIRE")
            .arg(&queue)
            .arg(KEY_TTL_SECS)
            .cmd("ZSCORE")
            .arg(&queue)
            .arg(&member)
            .query_async(&mut self.connection())
            .await
            .context("redis heartbeat")?;
        Ok(arrived.map_or_else(now_ms, |score| score as i64))
    }

    async fn depart(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<()> {
        let _: i64 = self
            .connection()
            .del(key(meeting, &format!("presence:{participant}")))
            .await
            .context("redis depart")?;
        Ok(())
    }

    async fn is_present(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<bool> {
        self.connection()
            .exists(key(meeting, &format!("presence:{participant}")))
            .await
            .context("redis presence")
    }

    async fn decide(
        &self,
        meeting: Uuid,
        participant: Uuid,
        decision: Decision,
    ) -> anyhow::Result<()> {
        let (set, unset) = match decision {
            Decision::Admitted => ("admitted", "rejected"),
            Decision::Rejected => ("rejected", "admitted"),
        };
        let _: ((), i64, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(key(meeting, &format!("{set}:{participant}")))
            .arg(1)
            .arg("EX")
            .arg(KEY_TTL_SECS)
            .cmd("DEL")
            .arg(key(meeting, &format!("{unset}:{participant}")))
            .cmd("ZREM")
            .arg(key(meeting, "queue"))
            .arg(participant.to_string())
            .query_async(&mut self.connection())
            .await
            .context("redis decide")?;
        Ok(())
    }

    async fn decision(&self, meeting: Uuid, participant: Uuid) -> anyhow::Result<Option<Decision>> {
        let (admitted, rejected): (bool, bool) = redis::pipe()
            .exists(key(meeting, &format!("admitted:{participant}")))
            .exists(key(meeting, &format!("rejected:{participant}")))
            .query_async(&mut self.connection())
            .await
            .context("redis decision")?;
        Ok(match (admitted, rejected) {
            (true, _) => Some(Decision::Admitted),
            (false, true) => Some(Decision::Rejected),
            _ => None,
        })
    }

    async fn queue(&self, meeting: Uuid) -> anyhow::Result<Vec<Waiting>> {
        let mut connection = self.connection();
        let arrivals: Vec<(String, f64)> = connection
            .zrange_withscores(key(meeting, "queue"), 0, -1)
            .await
            .context("redis queue")?;
        if arrivals.is_empty() {
            return Ok(Vec::new());
        }
        let mut presence = redis::pipe();
        for (participant, _) in &arrivals {
            presence.exists(key(meeting, &format!("presence:{participant}")));
        }
        let present: Vec<bool> = presence
            .query_async(&mut connection)
            .await
            .context("redis queue presence")?;
        let mut queue: Vec<Waiting> = arrivals
            .into_iter()
            .zip(present)
            .filter(|(_, present)| *present)
            .filter_map(|((participant, score), _)| {
                Some(Waiting {
                    participant_id: participant.parse().ok()?,
                    arrived_at_ms: score as i64,
                })
            })
            .collect();
        queue.sort_by_key(|w| (w.arrived_at_ms, w.participant_id));
        Ok(queue)
    }

    async fn set_status(&self, meeting: Uuid, status: &str) -> anyhow::Result<()> {
        let _: () = self
            .connection()
            .set_ex(key(meeting, "status"), status, KEY_TTL_SECS as u64)
            .await
            .context("redis set status")?;
        Ok(())
    }

    async fn status(&self, meeting: Uuid) -> anyhow::Result<Option<String>> {
        self.connection()
            .get(key(meeting, "status"))
            .await
            .context("redis status")
    }

    async fn publish(&self, meeting: Uuid, event: &MeetingEvent) -> anyhow::Result<()> {
        let payload = serde_json::to_string(event)?;
        let _: i64 = self
            .connection()
            .publish(key(meeting, "events"), payload)
            .await
            .context("redis publish")?;
        Ok(())
    }

    async fn subscribe(&self, meeting: Uuid) -> anyhow::Result<BoxStream<'static, MeetingEvent>> {
        let mut pubsub = self
            .client
            .get_async_pubsub()
            .await
            .context("redis subscribe connection")?;
        pubsub
            .subscribe(key(meeting, "events"))
            .await
            .context("redis subscribe")?;
        Ok(pubsub
            .into_on_message()
            .filter_map(|message| async move {
                let payload: String = message.get_payload().ok()?;
                serde_json::from_str(&payload).ok()
            })
            .boxed())
    }

    async fn clear(&self, meeting: Uuid) -> anyhow::Result<()> {
        // SCAN, not KEYS: it never blocks Redis for other meetings.
        let mut connection = self.connection();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("call:{meeting}:*"))
                .arg("COUNT")
                .arg(100)
                .query_async(&mut connection)
                .await
                .context("redis clear")?;
            if !keys.is_empty() {
                let _: i64 = connection.del(keys).await.context("redis clear")?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}
