//! The SFU's handle: N shards ([`super::shard`]), one per core unless configured, and
//! the routing that gives every room one shard and every call its room's shard. It
//! holds no SFU logic; `/rtc` sessions talk to it through [`SfuHandle`].
//!
//! A room's shard is chosen from its name (FNV-1a), so a join, a resume, the room
//! service and webhooks all find the same shard with no shared table; a connection id
//! carries its shard in its low bits (`id = n * shards + shard`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use livekit_protocol as proto;
use proto::{DisconnectReason, signal_request, signal_response};
use tokio::sync::{mpsc, oneshot};

use super::core::{ConnId, CoreInput, PeerMode};
use super::room_service::{RoomServiceCall, RoomServiceError, RoomServiceReply};
use super::shard::{Command, Shard, ShardSettings};
use super::webhooks::{WebhookSender, WebhookSettings};
use bedside_sfu::{JoinGrant, SfuStats};

/// Signal messages queued per connection before it counts as stuck and is dropped.
const SIGNAL_QUEUE: usize = 256;

/// Where the SFU listens and what it advertises.
#[derive(Debug, Clone)]
pub struct SfuSettings {
    /// UDP bind address; shard `i` binds port `port + i` (port 0: each picks one).
    pub udp_bind: SocketAddr,
    /// The IP clients reach the UDP ports at (the host candidate).
    pub public_ip: IpAddr,
    /// How long an empty room stays open.
    pub empty_room_timeout: Duration,
    /// How long media may take to connect, or stay disconnected.
    pub ice_timeout: Duration,
    /// Webhook receivers, if any.
    pub webhooks: Option<WebhookSettings>,
    /// ICE-TCP listen address, numbered per shard like UDP; `None` turns ICE-TCP off.
    pub tcp_bind: Option<SocketAddr>,
    /// How many shards (core tasks), at least 1 (`BEDSIDE_SFU_SHARDS`; default: the
    /// CPU count).
    pub shards: usize,
    /// Publishers' media beside str0m (`BEDSIDE_SFU_MEDIA_BESIDE_STR0M`).
    pub media_beside_str0m: bool,
    /// Subscribers' media sent beside str0m (`BEDSIDE_SFU_SEND_BESIDE_STR0M`).
    pub send_beside_str0m: bool,
}

/// What a signaling session receives from the SFU.
#[derive(Debug)]
pub enum SignalEvent {
    /// A message to send to the client.
    Message(Box<signal_response::Message>),
    /// Bedside's open-sections frame (only to clients that asked for it).
    SectionsAssigned(bedside_sfu::signal_ext::SectionsAssigned),
    /// The SFU closed the session.
    Close(DisconnectReason),
}

/// A cheap, cloneable handle to the running SFU.
#[derive(Clone, Debug)]
pub struct SfuHandle {
    shards: Arc<[Shard]>,
    next_conn: Arc<AtomicU64>,
}

/// The shard of the room named `room`, out of `shards`: FNV-1a of the name, so it is the
/// same in every process and for every caller.
pub fn shard_of_room(room: &str, shards: usize) -> usize {
    let hash = room.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % shards.max(1) as u64) as usize
}

/// Port `port + index`, or 0 (any free port) for 0.
fn numbered(mut addr: SocketAddr, index: usize) -> SocketAddr {
    if addr.port() != 0 {
        addr.set_port(addr.port().saturating_add(index as u16));
    }
    addr
}

impl SfuHandle {
    /// Binds every shard's ports and starts the shards.
    pub async fn start(settings: &SfuSettings) -> anyhow::Result<Self> {
        let webhooks = settings.webhooks.clone().and_then(WebhookSender::start);
        let mut shards = Vec::new();
        for index in 0..settings.shards.max(1) {
            shards.push(
                Shard::start(ShardSettings {
                    index,
                    udp_bind: numbered(settings.udp_bind, index),
                    tcp_bind: settings.tcp_bind.map(|bind| numbered(bind, index)),
                    public_ip: settings.public_ip,
                    empty_room_timeout: settings.empty_room_timeout,
                    ice_timeout: settings.ice_timeout,
                    webhooks: webhooks.clone(),
                    media_beside_str0m: settings.media_beside_str0m,
                    send_beside_str0m: settings.send_beside_str0m,
                })
                .await?,
            );
        }
        tracing::info!(shards = shards.len(), "sfu started");
        Ok(Self {
            shards: shards.into(),
            next_conn: Arc::new(AtomicU64::new(1)),
        })
    }

    /// The shards' bound UDP addresses, in shard order.
    pub fn udp_addrs(&self) -> Vec<SocketAddr> {
        self.shards.iter().map(|s| s.udp_addr).collect()
    }

    fn for_room(&self, room: &str) -> &Shard {
        &self.shards[shard_of_room(room, self.shards.len())]
    }

    fn for_conn(&self, conn: ConnId) -> &Shard {
        &self.shards[(conn % self.shards.len() as u64) as usize]
    }

    /// Joins a verified participant on its room's shard; returns its connection id and
    /// its event stream.
    pub async fn join(
        &self,
        grant: JoinGrant,
        request: proto::JoinRequest,
        (mode, open_sections): (PeerMode, bool),
        unix_ms: i64,
        ice_servers: Vec<proto::IceServer>,
    ) -> Option<(ConnId, mpsc::Receiver<SignalEvent>)> {
        let index = shard_of_room(&grant.room, self.shards.len());
        let shard = &self.shards[index];
        let sequence = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let conn = sequence * self.shards.len() as u64 + index as u64;
        let (sender, receiver) = mpsc::channel(SIGNAL_QUEUE);
        shard
            .commands
            .send(Command::Register { conn, sender })
            .await
            .ok()?;
        let join = CoreInput::Join {
            conn,
            grant,
            request: Box::new(request),
            mode,
            open_sections,
            unix_ms,
            ice_servers,
        };
        shard.commands.send(Command::Input(join)).await.ok()?;
        Some((conn, receiver))
    }

    /// Passes a signal request on.
    pub async fn signal(&self, conn: ConnId, message: signal_request::Message) {
        let input = CoreInput::Signal {
            conn,
            message: Box::new(message),
        };
        let _ = self
            .for_conn(conn)
            .commands
            .send(Command::Input(input))
            .await;
    }

    /// Tells every participant to rejoin elsewhere and closes their sessions (on
    /// SIGTERM, before the server stops).
    pub async fn shutdown(&self) {
        for shard in self.shards.iter() {
            let _ = shard
                .commands
                .send(Command::Input(CoreInput::Shutdown))
                .await;
        }
    }

    /// Every shard's counters, merged; `None` if a shard is gone.
    pub async fn stats(&self) -> Option<SfuStats> {
        let mut all = SfuStats::default();
        for shard in self.shards.iter() {
            let (reply, answer) = oneshot::channel();
            shard.commands.send(Command::Stats { reply }).await.ok()?;
            let stats = answer.await.ok()?;
            all.rooms.extend(stats.rooms);
            all.forward_delay.merge(&stats.forward_delay);
        }
        Some(all)
    }

    /// The SFU's metrics in Prometheus text format; `None` if a shard is gone.
    pub async fn metrics(&self) -> Option<String> {
        Some(super::prometheus::format(&self.stats().await?))
    }

    /// Runs a room service call on its room's shard (`ListRooms` on every shard, the
    /// lists merged); `None` if a shard is gone.
    pub async fn room_service(
        &self,
        call: RoomServiceCall,
        unix_ms: i64,
    ) -> Option<Result<RoomServiceReply, RoomServiceError>> {
        let shards: Vec<&Shard> = match call.room() {
            Some(room) => vec![self.for_room(room)],
            None => self.shards.iter().collect(),
        };
        let mut merged: Option<Result<RoomServiceReply, RoomServiceError>> = None;
        for shard in shards {
            let (reply, answer) = oneshot::channel();
            let command = Command::RoomService {
                call: Box::new(call.clone()),
                unix_ms,
                reply,
            };
            shard.commands.send(command).await.ok()?;
            let outcome = answer.await.ok()?;
            merged = Some(match (merged, outcome) {
                (Some(Ok(RoomServiceReply::Rooms(mut all))), Ok(RoomServiceReply::Rooms(more))) => {
                    all.rooms.extend(more.rooms);
                    Ok(RoomServiceReply::Rooms(all))
                }
                (Some(Err(error)), _) | (_, Err(error)) => Err(error),
                (_, outcome) => outcome,
            });
        }
        merged
    }

    /// The session is gone: it dropped (`resumable`) or broke the protocol.
    pub async fn disconnect(&self, conn: ConnId, resumable: bool) {
        let input = CoreInput::Disconnect { conn, resumable };
        let _ = self
            .for_conn(conn)
            .commands
            .send(Command::Input(input))
            .await;
    }
}

/// Milliseconds since the Unix epoch: the SFU's wall clock, read here and nowhere in
/// the core (which takes every time as an argument).
pub(crate) fn unix_ms() -> i64 {
    unix_time().as_millis() as i64
}

/// The wall clock since the Unix epoch (what kernel receive times are read against).
pub(crate) fn unix_time() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "driver_test.rs"]
mod tests;
