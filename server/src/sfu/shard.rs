//! One shard of the SFU: a thread of its own with a single-threaded tokio runtime, one
//! [`Core`] holding the shard's rooms, its own UDP media port (and ICE-TCP listener),
//! its timer and its command channel. It holds no SFU logic and shares nothing with the
//! other shards but the webhook queue: a packet reaches it because its port is in the
//! candidates of its rooms only, so no lock and no hand-off sit between the kernel and
//! the core, and one room's work never blocks another shard's.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::Context;
use str0m::net::Protocol;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::core::{ConnId, Core, CoreConfig, CoreInput, CoreOutput};
use super::driver::{SignalEvent, unix_ms, unix_time};
use super::room_service::{RoomServiceCall, RoomServiceError, RoomServiceReply};
use super::tcp::TcpEvent;
use super::udp::{MediaSocket, RecvBatch, ReplySources, SendBatch};
use super::webhooks::WebhookSender;
use bedside_sfu::SfuStats;

/// Commands queued for one shard.
const COMMAND_QUEUE: usize = 1024;

/// How many received datagrams the shard forwards before it sends what they produced.
///
/// One receive batch holds up to about 30 datagrams (more with GRO), and working through
/// one costs about as many times a packet's cost. Sent only at the end, the first
/// packet of a batch would wait for the last; sent every few, it leaves as soon as its
/// few are done. With 1:1 visits the datagrams of a batch are for different subscribers
/// anyway, so flushing more often polls no subscriber more often (measured in
/// `bench-sfu`: no change in packets per core-second, docs/sfu.md).
const SEND_EVERY_RECEIVED: usize = 8;

/// Timer turns the shard takes in a row, with the socket read between, before it also
/// looks at its commands and ICE-TCP connections (see `run`).
const OVERDUE_TURNS_IN_A_ROW: usize = 8;

/// What a shard is asked to do.
pub(super) enum Command {
    Register {
        conn: ConnId,
        sender: mpsc::Sender<SignalEvent>,
    },
    Input(CoreInput),
    Stats {
        reply: oneshot::Sender<SfuStats>,
    },
    RoomService {
        call: Box<RoomServiceCall>,
        unix_ms: i64,
        reply: oneshot::Sender<Result<RoomServiceReply, RoomServiceError>>,
    },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

/// Where one shard listens and what it advertises.
pub(super) struct ShardSettings {
    pub(super) index: usize,
    pub(super) udp_bind: SocketAddr,
    pub(super) tcp_bind: Option<SocketAddr>,
    pub(super) public_ip: IpAddr,
    pub(super) empty_room_timeout: Duration,
    pub(super) ice_timeout: Duration,
    pub(super) webhooks: Option<WebhookSender>,
    pub(super) media_beside_str0m: bool,
    pub(super) send_beside_str0m: bool,
}

/// A running shard: its command channel and its bound media port.
#[derive(Debug, Clone)]
pub(super) struct Shard {
    pub(super) commands: mpsc::Sender<Command>,
    pub(super) udp_addr: SocketAddr,
}

impl Shard {
    /// Starts the shard's thread and waits until its ports are bound. The thread ends
    /// when every handle to the shard is dropped.
    pub(super) async fn start(settings: ShardSettings) -> anyhow::Result<Self> {
        let (ready, bound) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("sfu-shard-{}", settings.index))
            .spawn(move || {
                if super::priority::current_nice() > 0 {
                    tracing::info!("sfu shard started from a lowered thread: it yields like one");
                }
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready.send(Err(anyhow::Error::from(error)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match bind(settings).await {
                        Ok((shard, io, core, commands, tcp_events)) => {
                            let _ = ready.send(Ok(shard));
                            run(io, core, commands, tcp_events).await;
                        }
                        Err(error) => {
                            let _ = ready.send(Err(error));
                        }
                    }
                });
            })
            .context("starting an SFU shard thread")?;
        bound.await.context("the SFU shard thread stopped")?
    }
}

type Bound = (
    Shard,
    Io,
    Core,
    mpsc::Receiver<Command>,
    Option<mpsc::Receiver<TcpEvent>>,
);

/// Binds the shard's sockets (inside its own runtime, whose reactor serves them).
async fn bind(settings: ShardSettings) -> anyhow::Result<Bound> {
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
            tracing::info!(
                shard = settings.index,
                port = tcp_local.port(),
                "sfu ice-tcp port bound"
            );
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
        media_beside_str0m: settings.media_beside_str0m,
        send_beside_str0m: settings.send_beside_str0m,
    });
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
        webhooks: settings.webhooks,
    };
    let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
    tracing::info!(
        shard = settings.index,
        port = local_addr.port(),
        "sfu media port bound"
    );
    let shard = Shard {
        commands,
        udp_addr: local_addr,
    };
    Ok((shard, io, core, receiver, tcp_events))
}

/// Everything the driver does IO with.
struct Io {
    socket: MediaSocket,
    /// Outgoing datagrams gathered into segmented sends.
    send_batch: SendBatch,
    reply_sources: ReplySources,
    /// Where to send from when a peer was not heard from yet (see `bind`).
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
    let mut overdue_turns = 0;
    loop {
        // A timer turn left participants due (`Core::handle_timeout` serves a bounded
        // share): the next turn now, after what arrived meanwhile, so no packet waits
        // behind every participant's timers at once. Not left to the sleep below:
        // tokio's timer rounds up to the next millisecond. Only then: a timer due
        // again at once (a pacer's next microsecond) waits for the sleep, as before.
        // Every few turns the wait below runs anyway, so commands and ICE-TCP are
        // served while timers keep falling due.
        overdue_turns += 1;
        if overdue_turns <= OVERDUE_TURNS_IN_A_ROW
            && core.timers_left_due()
            && core.poll_timeout().is_some_and(|at| at <= Instant::now())
        {
            core.handle_timeout(Instant::now());
            drain(&mut core, &mut io);
            match io.socket.try_recv(&mut batch) {
                Ok(true) => take_batch(&mut core, &mut io, &batch),
                Ok(false) => {}
                Err(error) => tracing::debug!(%error, "sfu udp receive failed"),
            }
            drain(&mut core, &mut io);
            continue;
        }
        overdue_turns = 0;
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
                Some(Command::Stats { reply }) => {
                    let _ = reply.send(core.stats());
                }
                Some(Command::RoomService { call, unix_ms, reply }) => {
                    let _ = reply.send(core.room_service(Instant::now(), unix_ms, *call));
                }
            },
            received = io.socket.recv(&mut batch) => match received {
                Ok(()) => take_batch(&mut core, &mut io, &batch),
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

/// Feeds one receive batch to the core, sending what it produced every few datagrams.
fn take_batch(core: &mut Core, io: &mut Io, batch: &RecvBatch) {
    let now = Instant::now();
    let wall = unix_time();
    let mut taken = 0;
    for (received, bytes) in batch.received() {
        if let (true, Some(local_ip)) = (io.socket.is_wildcard(), received.local_ip) {
            io.reply_sources.learn(received.source, local_ip);
        }
        let arrival = arrived(now, wall, received.kernel_time);
        for datagram in bytes.chunks(received.stride) {
            core.receive_at(now, arrival, Protocol::Udp, received.source, datagram);
            taken += 1;
            if taken % SEND_EVERY_RECEIVED == 0 {
                core.flush(now);
                drain(core, io);
            }
        }
    }
    core.flush(now);
}

/// Queues `event` for `conn`'s socket; a session whose queue is full or closed is
/// dropped from the map and noted in `stuck`.
fn deliver(
    sessions: &mut HashMap<ConnId, mpsc::Sender<SignalEvent>>,
    conn: ConnId,
    event: SignalEvent,
    stuck: &mut Vec<ConnId>,
) {
    let delivered = sessions
        .get(&conn)
        .is_some_and(|s| s.try_send(event).is_ok());
    if !delivered && sessions.remove(&conn).is_some() {
        stuck.push(conn);
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
                    let event = SignalEvent::Message(message);
                    deliver(&mut io.sessions, conn, event, &mut stuck);
                }
                CoreOutput::SectionsAssigned { conn, assigned } => {
                    let event = SignalEvent::SectionsAssigned(assigned);
                    deliver(&mut io.sessions, conn, event, &mut stuck);
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
        core.departed(Instant::now());
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

/// The instant a datagram reached the host: `now` less the time it waited in the
/// socket (the wall clock `wall`, read with `now`, less the kernel's receive time).
/// `now` itself without a kernel time, or with one that is not plausible (a wall
/// clock stepped by more than a second).
fn arrived(now: Instant, wall: Duration, kernel_time: Option<Duration>) -> Instant {
    kernel_time
        .and_then(|at| wall.checked_sub(at))
        .filter(|waited| *waited < Duration::from_secs(1))
        .and_then(|waited| now.checked_sub(waited))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::arrived;

    #[test]
    fn a_datagram_arrived_as_long_before_the_turn_as_it_waited_in_the_socket() {
        let now = Instant::now();
        let wall = Duration::from_secs(1_800_000_000);
        let kernel = wall - Duration::from_micros(2_500);
        assert_eq!(
            arrived(now, wall, Some(kernel)),
            now - Duration::from_micros(2_500)
        );
    }

    #[test]
    fn without_a_plausible_kernel_time_a_datagram_arrived_at_the_turn() {
        let now = Instant::now();
        let wall = Duration::from_secs(1_800_000_000);
        assert_eq!(arrived(now, wall, None), now);
        let future = wall + Duration::from_millis(3);
        assert_eq!(
            arrived(now, wall, Some(future)),
            now,
            "a clock read out of order"
        );
        let stepped = wall - Duration::from_secs(30);
        assert_eq!(
            arrived(now, wall, Some(stepped)),
            now,
            "a wall clock stepped"
        );
    }
}
