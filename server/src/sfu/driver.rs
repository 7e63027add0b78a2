//! The one tokio task around [`Core`]: the shared UDP socket, the timer and the command
//! channel. It holds no SFU logic; `/rtc` sessions talk to it through [`SfuHandle`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use livekit_protocol as proto;
use proto::{DisconnectReason, signal_request, signal_response};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::core::{ConnId, Core, CoreConfig, CoreInput, CoreOutput, PeerMode};
use super::room_service::{RoomServiceCall, RoomServiceError, RoomServiceReply};
use super::tcp::TcpEvent;
use super::udp::{MediaSocket, ReplySources, SendBatch};
use super::webhooks::{WebhookSender, WebhookSettings};
use bedside_sfu::JoinGrant;
use str0m::net::Protocol;

/// Signal messages queued per connection before it counts as stuck and is dropped.
const SIGNAL_QUEUE: usize = 256;
/// Commands queued for the SFU task.
const COMMAND_QUEUE: usize = 1024;

/// Where the SFU listens and what it advertises.
#[derive(Debug, Clone)]
pub struct SfuSettings {
    /// UDP bind address for all peers (port 0 picks one).
    pub udp_bind: SocketAddr,
    /// The IP clients reach the UDP port at (the host candidate).
    pub public_ip: IpAddr,
    /// How long an empty room stays open.
    pub empty_room_timeout: Duration,
    /// How long media may take to connect, or stay disconnected.
    pub ice_timeout: Duration,
    /// Webhook receivers, if any.
    pub webhooks: Option<WebhookSettings>,
    /// ICE-TCP listen address (port 0 picks one); `None` turns ICE-TCP off.
    pub tcp_bind: Option<SocketAddr>,
}

/// What a signaling session receives from the SFU.
#[derive(Debug)]
pub enum SignalEvent {
    /// A message to send to the client.
    Message(Box<signal_response::Message>),
    /// The SFU closed the session.
    Close(DisconnectReason),
}

enum Command {
    Register {
        conn: ConnId,
        sender: mpsc::Sender<SignalEvent>,
    },
    Input(CoreInput),
    Metrics {
        reply: oneshot::Sender<String>,
    },
    RoomService {
        call: Box<RoomServiceCall>,
        unix_ms: i64,
        reply: oneshot::Sender<Result<RoomServiceReply, RoomServiceError>>,
    },
}

/// A cheap, cloneable handle to the running SFU.
#[derive(Clone, Debug)]
pub struct SfuHandle {
    commands: mpsc::Sender<Command>,
    next_conn: Arc<AtomicU64>,
    udp_addr: SocketAddr,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl SfuHandle {
    /// Binds the UDP socket and starts the SFU task.
    pub async fn start(settings: &SfuSettings) -> anyhow::Result<Self> {
        let socket = MediaSocket::bind(settings.udp_bind)
            .await
            .with_context(|| format!("binding the media UDP port {}", settings.udp_bind))?;
        let local_addr = socket.local_addr()?;
        let public_addr = SocketAddr::new(settings.public_ip, local_addr.port());
        let (tcp, tcp_events) = match settings.tcp_bind {
            Some(bind) => {
                let listener = TcpListener::bind(bind)
                    .await
                    .with_context(|| format!("binding the ICE-TCP port {bind}"))?;
                let tcp_local = listener.local_addr()?;
                let (events, receiver) = mpsc::channel(COMMAND_QUEUE);
                tokio::spawn(super::tcp::accept(listener, events, Default::default()));
                tracing::info!(port = tcp_local.port(), "sfu ice-tcp port bound");
                let tcp_public = SocketAddr::new(settings.public_ip, tcp_local.port());
                (Some((tcp_public, tcp_local)), Some(receiver))
            }
            None => (None, None),
        };
        let core = Core::new(CoreConfig {
            public_addr,
            local_addr,
            tcp,
            empty_room_timeout: settings.empty_room_timeout,
            ice_timeout: settings.ice_timeout,
            sids: bedside_sfu::ids::Sids::random(),
        });
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let webhooks = settings.webhooks.clone().and_then(WebhookSender::start);
        // Bound to a wildcard with an advertised address of this host: what the SFU sends
        // before a peer was heard from (its own ICE checks) leaves from the advertised
        // address too. Left to routing, it could leave from another address of the host,
        // which the browser takes for a peer-reflexive candidate and may select.
        let advertised_is_local = settings.udp_bind.ip().is_unspecified()
            && std::net::UdpSocket::bind((settings.public_ip, 0)).is_ok();
        let io = Io {
            socket,
            send_batch: SendBatch::default(),
            reply_sources: ReplySources::default(),
            default_source: advertised_is_local.then_some(settings.public_ip),
            sessions: HashMap::new(),
            tcp_writers: HashMap::new(),
            webhooks,
        };
        tokio::spawn(run(io, core, receiver, tcp_events));
        tracing::info!(port = local_addr.port(), "sfu media port bound");
        Ok(Self {
            commands,
            next_conn: Arc::new(AtomicU64::new(1)),
            udp_addr: local_addr,
        })
    }

    /// The bound UDP address.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// Joins a verified participant; returns its connection id and its event stream.
    pub async fn join(
        &self,
        grant: JoinGrant,
        request: proto::JoinRequest,
        mode: PeerMode,
        unix_ms: i64,
        ice_servers: Vec<proto::IceServer>,
    ) -> Option<(ConnId, mpsc::Receiver<SignalEvent>)> {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(SIGNAL_QUEUE);
        self.commands
            .send(Command::Register { conn, sender })
            .await
            .ok()?;
        let join = CoreInput::Join {
            conn,
            grant,
            request: Box::new(request),
            mode,
            unix_ms,
            ice_servers,
        };
        self.commands.send(Command::Input(join)).await.ok()?;
        Some((conn, receiver))
    }

    /// Passes a signal request on.
    pub async fn signal(&self, conn: ConnId, message: signal_request::Message) {
        let input = CoreInput::Signal {
            conn,
            message: Box::new(message),
        };
        let _ = self.commands.send(Command::Input(input)).await;
    }

    /// Tells every participant to rejoin elsewhere and closes their sessions (on
    /// SIGTERM, before the server stops).
    pub async fn shutdown(&self) {
        let _ = self
            .commands
            .send(Command::Input(CoreInput::Shutdown))
            .await;
    }

    /// The SFU's metrics in Prometheus text format; `None` if the SFU task is gone.
    pub async fn metrics(&self) -> Option<String> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Metrics { reply }).await.ok()?;
        answer.await.ok()
    }

    /// Runs a room service call; `None` if the SFU task is gone.
    pub async fn room_service(
        &self,
        call: RoomServiceCall,
        unix_ms: i64,
    ) -> Option<Result<RoomServiceReply, RoomServiceError>> {
        let (reply, answer) = oneshot::channel();
        let command = Command::RoomService {
            call: Box::new(call),
            unix_ms,
            reply,
        };
        self.commands.send(command).await.ok()?;
        answer.await.ok()
    }

    /// The session is gone: it dropped (`resumable`) or broke the protocol.
    pub async fn disconnect(&self, conn: ConnId, resumable: bool) {
        let input = CoreInput::Disconnect { conn, resumable };
        let _ = self.commands.send(Command::Input(input)).await;
    }
}

/// Everything the driver does IO with.
struct Io {
    socket: MediaSocket,
    /// Outgoing datagrams gathered into segmented sends.
    send_batch: SendBatch,
    reply_sources: ReplySources,
    /// Where to send from when a peer was not heard from yet (see `SfuHandle::start`).
    default_source: Option<std::net::IpAddr>,
    sessions: HashMap<ConnId, mpsc::Sender<SignalEvent>>,
    tcp_writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    webhooks: Option<WebhookSender>,
}

/// The next ICE-TCP event, or never when ICE-TCP is off.
async fn next_tcp(events: &mut Option<mpsc::Receiver<TcpEvent>>) -> Option<TcpEvent> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

async fn run(
    mut io: Io,
    mut core: Core,
    mut commands: mpsc::Receiver<Command>,
    mut tcp_events: Option<mpsc::Receiver<TcpEvent>>,
) {
    let mut batch = io.socket.receive_batch();
    loop {
        let deadline = core
            .poll_timeout()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(Command::Register { conn, sender }) => {
                    io.sessions.insert(conn, sender);
                }
                Some(Command::Input(input)) => core.handle_input(Instant::now(), input),
                Some(Command::Metrics { reply }) => {
                    let _ = reply.send(super::prometheus::format(&core.stats()));
                }
                Some(Command::RoomService { call, unix_ms, reply }) => {
                    let _ = reply.send(core.room_service(Instant::now(), unix_ms, *call));
                }
            },
            received = io.socket.recv(&mut batch) => match received {
                Ok(()) => {
                    let now = Instant::now();
                    for (received, bytes) in batch.received() {
                        if let (true, Some(local_ip)) = (io.socket.is_wildcard(), received.local_ip) {
                            io.reply_sources.learn(received.source, local_ip);
                        }
                        for datagram in bytes.chunks(received.stride) {
                            core.handle_datagram(now, received.source, datagram);
                        }
                    }
                }
                Err(error) => tracing::debug!(%error, "sfu udp receive failed"),
            },
            Some(event) = next_tcp(&mut tcp_events) => match event {
                TcpEvent::Open { remote, writer } => {
                    io.tcp_writers.insert(remote, writer);
                }
                TcpEvent::Frame { remote, data } => {
                    core.handle_packet(Instant::now(), Protocol::Tcp, remote, &data);
                }
                TcpEvent::Closed { remote } => {
                    io.tcp_writers.remove(&remote);
                }
            },
            _ = tokio::time::sleep_until(deadline) => core.handle_timeout(Instant::now()),
        }
        drain(&mut core, &mut io);
    }
}

/// Carries out everything the core asked for.
fn drain(core: &mut Core, io: &mut Io) {
    loop {
        let mut stuck = Vec::new();
        while let Some(output) = core.poll_output() {
            match output {
                CoreOutput::Transmit(transmit) if transmit.proto == Protocol::Tcp => {
                    // A full write queue drops the packet, as UDP would.
                    if let Some(writer) = io.tcp_writers.get(&transmit.destination) {
                        let _ = writer.try_send(transmit.contents.to_vec());
                    }
                }
                CoreOutput::Transmit(transmit) => {
                    let source = io
                        .reply_sources
                        .for_peer(transmit.destination)
                        .or(io.default_source);
                    io.socket.queue(
                        &mut io.send_batch,
                        &transmit.contents,
                        transmit.destination,
                        source,
                    );
                }
                CoreOutput::Signal { conn, message } => {
                    let delivered = io
                        .sessions
                        .get(&conn)
                        .is_some_and(|s| s.try_send(SignalEvent::Message(message)).is_ok());
                    if !delivered && io.sessions.remove(&conn).is_some() {
                        stuck.push(conn);
                    }
                }
                CoreOutput::Webhook(mut event) => {
                    if let Some(webhooks) = &io.webhooks {
                        event.id = bedside_sfu::ids::new_sid("EV_");
                        event.created_at = unix_ms() / 1000;
                        webhooks.send(*event);
                    }
                }
                CoreOutput::Close { conn, reason } => {
                    if let Some(session) = io.sessions.remove(&conn) {
                        let _ = session.try_send(SignalEvent::Close(reason));
                    }
                }
            }
        }
        io.socket.flush(&mut io.send_batch);
        if stuck.is_empty() {
            return;
        }
        for conn in stuck {
            tracing::info!(conn, "sfu drops a session that stopped reading");
            let input = CoreInput::Disconnect {
                conn,
                resumable: true,
            };
            core.handle_input(Instant::now(), input);
        }
    }
}

/// Milliseconds since the Unix epoch: the SFU's wall clock, read here and nowhere in
/// the core (which takes every time as an argument).
pub(crate) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
