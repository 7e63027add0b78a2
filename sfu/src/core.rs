//! The sans-IO heart of the SFU. See the module docs of [`crate::sfu`] and `docs/sfu.md`.
//!
//! Contract (the driver and the simulation tests keep it):
//! 1. Feed inputs: [`Core::handle_input`] (signaling), [`Core::handle_datagram`] (UDP;
//!    or [`Core::receive`] calls, then [`Core::flush`]), [`Core::handle_timeout`] while
//!    `now` is at or past [`Core::poll_timeout`] (a call serves 16 participants at most).
//! 2. After every call, drain [`Core::poll_output`] until it returns `None`: datagrams to
//!    send, signal messages for one connection, and connections to close.
//!
//! Every call takes `now`; the core never reads a clock, blocks, or spawns.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bedside_signal::ext::SectionsAssigned;
use livekit_protocol as proto;
use proto::{DisconnectReason, signal_request, signal_response};
use str0m::Input;
use str0m::net::{Receive, Transmit};

use super::delay::ForwardDelay;
use super::ids;
use super::participant::Side;
use super::participants::Participants;
pub(crate) use super::room::Room;
use crate::JoinGrant;

pub(crate) const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(1);

/// Identifies one signaling connection (one participant session), chosen by the driver.
pub type ConnId = u64;

/// Which peer-connection layout the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMode {
    /// `/rtc/v1`: one connection; the client offers, the SFU answers, in both directions.
    Single,
    /// `/rtc`: a publisher connection (client offers) and a subscriber one (SFU offers).
    Dual,
}

/// Static settings of the core.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// The address in the host ICE candidate (the UDP socket's public address).
    pub public_addr: SocketAddr,
    /// The address the socket is bound to (may be 0.0.0.0 or a private address behind
    /// 1:1 NAT); received packets are paired with `public_addr`, the advertised one.
    pub local_addr: SocketAddr,
    /// ICE-TCP: the passive TCP candidate's public address and the listener's local
    /// address, when TCP is enabled.
    pub tcp: Option<(SocketAddr, SocketAddr)>,
    /// How long an empty room stays before it closes.
    pub empty_room_timeout: Duration,
    /// How long a participant may take to connect media, or stay disconnected.
    pub ice_timeout: Duration,
    /// Where room, participant and track sids come from ([`ids::Sids::random`] in
    /// production; a seeded one in simulations).
    pub sids: ids::Sids,
    /// Publishers' packets are opened and forwarded beside str0m once str0m has seen a
    /// stream's first packets (`fast_rx.rs`); false keeps every packet on str0m's path.
    pub media_beside_str0m: bool,
    /// Subscribers' transports send beside str0m (`fast_tx.rs`); false: str0m sends.
    pub send_beside_str0m: bool,
}

/// Something the outside world tells the core.
#[derive(Debug)]
pub enum CoreInput {
    /// A verified client opened a signaling connection.
    Join {
        /// The connection.
        conn: ConnId,
        /// What its token grants.
        grant: JoinGrant,
        /// Its join request (from the URL; boxed, it is large).
        request: Box<proto::JoinRequest>,
        /// Single or dual peer connection.
        mode: PeerMode,
        /// Single mode: the client handles open receive sections
        /// ([`bedside_signal::ext::OPEN_SECTIONS_PARAM`]).
        open_sections: bool,
        /// Wall-clock time, for `joined_at` and the room's creation time.
        unix_ms: i64,
        /// STUN/TURN servers for its join response, with credentials the signaling
        /// layer minted for its identity (the core has no clock for their expiry).
        ice_servers: Vec<proto::IceServer>,
    },
    /// A signaling message (ping/pong is answered by the socket, not the core).
    Signal {
        /// The connection.
        conn: ConnId,
        /// The message (boxed, it is large).
        message: Box<signal_request::Message>,
    },
    /// The server is stopping: every participant is told to rejoin (to another node,
    /// or to this one once it is back).
    Shutdown,
    /// The signaling connection is gone.
    Disconnect {
        /// The connection.
        conn: ConnId,
        /// It dropped (the client may resume); false after a protocol error.
        resumable: bool,
    },
}

/// Something the core asks the outside world to do.
#[derive(Debug)]
pub enum CoreOutput {
    /// Send a datagram from the shared socket.
    Transmit(Transmit),
    /// Send a signal message on one connection.
    Signal {
        /// The connection.
        conn: ConnId,
        /// The message (boxed: responses are large, datagrams are many).
        message: Box<signal_response::Message>,
    },
    /// Tell a client which remote tracks now flow on its open receive sections
    /// (Bedside's extension, [`bedside_signal::ext`]; only to clients that asked).
    SectionsAssigned {
        /// The connection.
        conn: ConnId,
        /// The sections and their tracks.
        assigned: SectionsAssigned,
    },
    /// Notify the webhook receivers (the driver stamps `id` and `created_at`).
    Webhook(Box<proto::WebhookEvent>),
    /// Close one connection (after any signal messages queued before this).
    Close {
        /// The connection.
        conn: ConnId,
        /// Why.
        reason: DisconnectReason,
    },
}

/// The SFU state machine.
pub struct Core {
    pub(crate) config: CoreConfig,
    pub(crate) rooms: BTreeMap<String, Room>,
    pub(crate) participants: Participants,
    /// Remote address → the peer that accepted it (str0m's `accepts` is the fallback).
    pub(crate) routes: crate::FastMap<SocketAddr, (ConnId, Side)>,
    pub(crate) outputs: VecDeque<CoreOutput>,
    /// Peers written to since they were last polled.
    pub(crate) dirty: BTreeSet<(ConnId, Side)>,
    /// Participants whose m-sections must be renegotiated.
    pub(crate) needs_negotiation: BTreeSet<ConnId>,
    /// Next check for dead peers and empty rooms (once a second while anything exists).
    pub(crate) housekeeping_at: Option<Instant>,
    /// Sampled time from arrival to departure of forwarded packets.
    pub(crate) forward_delay: ForwardDelay,
    /// Next evaluation of who is speaking (while any room is open).
    pub(crate) speakers_at: Option<Instant>,
    /// The origin of the grid the path beside str0m sends its feedback on
    /// (`fast_rx.rs`): the first time a stream was handed over.
    pub(crate) feedback_origin: Option<Instant>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("rooms", &self.rooms.len())
            .field("participants", &self.participants.len())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// An empty SFU.
    pub fn new(config: CoreConfig) -> Self {
        Self {
            config,
            rooms: BTreeMap::new(),
            participants: Participants::default(),
            routes: crate::FastMap::default(),
            outputs: VecDeque::new(),
            dirty: BTreeSet::new(),
            housekeeping_at: None,
            speakers_at: None,
            needs_negotiation: BTreeSet::new(),
            forward_delay: ForwardDelay::default(),
            feedback_origin: None,
        }
    }

    /// Handles a signaling-side input.
    pub fn handle_input(&mut self, now: Instant, input: CoreInput) {
        match input {
            CoreInput::Join {
                conn,
                grant,
                request,
                mode,
                open_sections,
                unix_ms,
                ice_servers,
            } => {
                let connection = (mode, open_sections, unix_ms);
                self.join(now, conn, grant, *request, connection, ice_servers)
            }
            CoreInput::Signal { conn, message } => self.signal(now, conn, *message),
            CoreInput::Shutdown => {
                let conns: Vec<ConnId> = self.participants.keys().copied().collect();
                for conn in conns {
                    let rejoin = proto::leave_request::Action::Reconnect;
                    self.refuse(conn, DisconnectReason::ServerShutdown, rejoin);
                    self.remove_participant(now, conn, DisconnectReason::ServerShutdown, false);
                }
            }
            CoreInput::Disconnect {
                conn,
                resumable: true,
            } => self.signal_lost(now, conn),
            CoreInput::Disconnect { conn, .. } => {
                self.remove_participant(now, conn, DisconnectReason::StateMismatch, false)
            }
        }
        self.drive(now);
    }

    /// Handles one received datagram (UDP) or RFC 4571 frame (ICE-TCP). Returns false
    /// when no peer accepts it.
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, data: &[u8]) -> bool {
        self.handle_packet(now, str0m::net::Protocol::Udp, source, data)
    }

    /// Like [`Core::handle_datagram`], for a packet that came over `proto`.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        proto: str0m::net::Protocol,
        source: SocketAddr,
        data: &[u8],
    ) -> bool {
        let handled = self.receive(now, proto, source, data);
        self.drive(now);
        handled
    }

    /// Takes in one packet of a batch: only the peer it is for is polled now (str0m's
    /// RTP mode holds one received packet until then), so the packets it forwards wait
    /// in their subscribers' send queues. Call [`Core::flush`] after the batch: each
    /// subscriber is then polled once for all of them, not once per packet.
    pub fn receive(
        &mut self,
        now: Instant,
        proto: str0m::net::Protocol,
        source: SocketAddr,
        data: &[u8],
    ) -> bool {
        self.receive_at(now, now, proto, source, data)
    }

    /// Like [`Core::receive`], for a packet that reached the host at `arrival` (the
    /// kernel's receive time, earlier than `now` by the time it waited in the socket):
    /// the publisher's transport-wide feedback reports that time, as a browser's
    /// does, so the shard's own turn times do not read as a queue on the publisher's
    /// link (`docs/sfu.md`, "The send side's estimate").
    pub fn receive_at(
        &mut self,
        now: Instant,
        arrival: Instant,
        proto: str0m::net::Protocol,
        source: SocketAddr,
        data: &[u8],
    ) -> bool {
        // str0m pairs a packet with the local candidate it was sent to: the advertised
        // address, whatever the socket is bound to (0.0.0.0, behind 1:1 NAT).
        let destination = match (proto, self.config.tcp) {
            (str0m::net::Protocol::Tcp, Some((public, _))) => public,
            _ => self.config.public_addr,
        };
        if let Some(handled) =
            self.receive_beside_str0m(now, arrival, (proto, destination, source), data)
        {
            return handled;
        }
        if self.config.send_beside_str0m
            && !self.read_rtcp_beside_str0m(now, (proto, destination, source), data)
        {
            return true;
        }
        let Ok(receive) = Receive::new(proto, source, destination, data) else {
            return false;
        };
        let input = Input::Receive(now, receive);
        let target = self
            .routes
            .get(&source)
            .copied()
            .filter(|(conn, side)| {
                self.participants
                    .get(conn)
                    .and_then(|p| p.rtc(*side))
                    .is_some_and(|rtc| rtc.accepts(&input))
            })
            .or_else(|| self.find_acceptor(&input));
        let Some((conn, side)) = target else {
            return false;
        };
        self.routes.insert(source, (conn, side));
        let Some(participant) = self.participants.get_mut(&conn) else {
            return false;
        };
        participant.handle_rtc_input(side, input);
        self.dirty.remove(&(conn, side));
        let events = participant.poll_peer(now, side, &mut self.outputs);
        for event in events {
            self.handle_event(now, conn, side, event);
        }
        true
    }

    /// Polls every peer a run of [`Core::receive`] left with work (see there).
    pub fn flush(&mut self, now: Instant) {
        self.drive(now);
    }

    fn find_acceptor(&self, input: &Input) -> Option<(ConnId, Side)> {
        self.participants.iter().find_map(|(conn, p)| {
            [Side::Publisher, Side::Subscriber]
                .into_iter()
                .find(|side| p.rtc(*side).is_some_and(|rtc| rtc.accepts(input)))
                .map(|side| (*conn, side))
        })
    }

    /// Advances due timers to `now`, a bounded share per call (see the module docs).
    pub fn handle_timeout(&mut self, now: Instant) {
        // Only participants whose timers are due, at most 16 (`participants.rs`).
        for conn in self.participants.due(now) {
            let Some(participant) = self.participants.get_mut(&conn) else {
                continue;
            };
            for side in participant.due_peers(now) {
                participant.handle_rtc_input(side, Input::Timeout(now));
                self.dirty.insert((conn, side));
            }
            if let Some(fast) = participant.publisher.fast.as_mut() {
                fast.feedback_if_due(now, &mut self.outputs);
            }
            participant.send_timers(now, &mut self.outputs);
        }
        if self.housekeeping_at.is_some_and(|at| at <= now) {
            self.expire(now);
            self.tell_connection_quality(now);
            let busy = !self.participants.is_empty() || !self.rooms.is_empty();
            self.housekeeping_at = busy.then_some(now + HOUSEKEEPING_INTERVAL);
        }
        if self.speakers_at.is_some_and(|at| at <= now) {
            self.tell_speakers(now);
            let open = !self.rooms.is_empty();
            self.speakers_at = open.then_some(now + super::speakers::SPEAKER_INTERVAL);
        }
        self.drive(now);
    }

    /// The next time [`Core::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let peers = self.participants.next_timeout().into_iter();
        let default = self.config.empty_room_timeout;
        let rooms = self.rooms.values().filter_map(|r| {
            r.empty_since
                .map(|t| t + r.empty_timeout.unwrap_or(default))
        });
        peers
            .chain(rooms)
            .chain(self.housekeeping_at)
            .chain(self.speakers_at)
            .min()
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<CoreOutput> {
        let output = self.outputs.pop_front();
        if let Some(CoreOutput::Transmit(transmit)) = &output {
            self.forward_delay.leaving(&transmit.contents);
        }
        output
    }

    /// The datagrams taken from [`Core::poll_output`] since the last call were handed
    /// to the socket by `at`: the driver calls this after each send, with the time it
    /// read (the forwarding delay's departure, see [`crate::delay`]).
    pub fn departed(&mut self, at: Instant) {
        self.forward_delay.departed(at);
    }

    /// Polls every dirty peer until it has nothing more to say, handling the events it
    /// raises (which may dirty other peers) until everything is quiet.
    pub(crate) fn drive(&mut self, now: Instant) {
        for _ in 0..100_000 {
            if let Some(&(conn, side)) = self.dirty.iter().next() {
                self.dirty.remove(&(conn, side));
                let events = match self.participants.get_mut(&conn) {
                    Some(p) => p.poll_peer(now, side, &mut self.outputs),
                    None => continue,
                };
                for event in events {
                    self.handle_event(now, conn, side, event);
                }
            } else if !self.needs_negotiation.is_empty() {
                self.negotiate_pending(now);
            } else {
                self.participants.reschedule();
                return;
            }
        }
        self.participants.reschedule();
        tracing::warn!("sfu drive loop did not settle");
    }

    /// Removes peers that died or never connected, and rooms empty for long enough.
    fn expire(&mut self, now: Instant) {
        let dead: Vec<(ConnId, DisconnectReason)> = self
            .participants
            .iter()
            .filter_map(|(conn, p)| p.expired(now, self.config.ice_timeout).map(|r| (*conn, r)))
            .collect();
        for (conn, reason) in dead {
            tracing::info!(conn, ?reason, "sfu participant timed out");
            self.remove_participant(now, conn, reason, true);
        }
        let default = self.config.empty_room_timeout;
        let mut finished = Vec::new();
        self.rooms.retain(|_, room| {
            let timeout = room.empty_timeout.unwrap_or(default);
            let keep = room.empty_since.is_none_or(|since| now < since + timeout);
            if !keep {
                tracing::info!(room_sid = %room.sid, "sfu room closed");
                finished.push(room.info(0));
            }
            keep
        });
        for room in finished {
            self.webhook("room_finished", Some(room), None, None);
        }
    }

    /// Queues a webhook event.
    pub(crate) fn webhook(
        &mut self,
        event: &str,
        room: Option<proto::Room>,
        participant: Option<proto::ParticipantInfo>,
        track: Option<proto::TrackInfo>,
    ) {
        let event = proto::WebhookEvent {
            event: event.to_string(),
            room,
            participant,
            track,
            ..Default::default()
        };
        self.outputs.push_back(CoreOutput::Webhook(Box::new(event)));
    }

    /// Queues a signal message.
    pub(crate) fn send(&mut self, conn: ConnId, message: signal_response::Message) {
        self.outputs.push_back(CoreOutput::Signal {
            conn,
            message: Box::new(message),
        });
    }

    /// Tells a connection to leave (`action`: disconnect, resume or rejoin) and closes it.
    pub(crate) fn refuse(
        &mut self,
        conn: ConnId,
        reason: DisconnectReason,
        action: proto::leave_request::Action,
    ) {
        let leave = proto::LeaveRequest {
            can_reconnect: action != proto::leave_request::Action::Disconnect,
            reason: reason as i32,
            action: action as i32,
            regions: None,
        };
        self.send(conn, signal_response::Message::Leave(leave));
        self.outputs.push_back(CoreOutput::Close { conn, reason });
    }

    /// Points routes of `old`'s peers at `new`.
    pub(crate) fn rebind_routes(&mut self, old: ConnId, new: ConnId) {
        for (conn, _) in self.routes.values_mut() {
            if *conn == old {
                *conn = new;
            }
        }
    }

    /// Drops routes to a participant's peers.
    pub(crate) fn forget_routes(&mut self, conn: ConnId) {
        self.routes.retain(|_, (c, _)| *c != conn);
    }
}
