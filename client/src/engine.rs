//! The engine: one serial job loop that owns the signaling [`Session`], the socket and
//! the peer connections. Browser callbacks (socket frames, ICE candidates, remote
//! tracks, connection states, timers) become [`Job`]s on one channel, and the loop
//! handles them in order, awaiting the browser's promises in between. Ordering is the
//! point: an answer is always applied before the candidates that follow it, and a
//! renegotiation never overlaps another.
//!
//! State lives in a `RefCell` borrowed only between awaits, never across one; events
//! for the application are queued while borrowed and delivered after, so a handler may
//! call back into the room freely.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use bedside_signal::proto;
use bedside_signal::{ConnectMode, LossCause, Session, Target};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_channel::oneshot;
use futures_util::StreamExt;
use wasm_bindgen::JsCast;
use web_sys::{MediaStreamTrack, RtcPeerConnection, RtcPeerConnectionState};

use crate::adaptive::VideoObserver;
use crate::error::ClientError;
use crate::js;
use crate::peer::Peer;
use crate::publish::LocalInner;
use crate::remote::Remotes;
use crate::room::{ConnectionState, RoomEvent, RoomOptions};
use crate::socket::SignalSocket;

/// Something the loop must handle. Socket jobs carry the socket's generation, peer
/// jobs the peer connections' generation; stale ones are dropped.
pub(crate) enum Job {
    /// The socket opened: queued frames can go (the loop flushes after every job).
    SocketOpened,
    /// A frame from the server.
    Frame(u32, Vec<u8>),
    /// The socket closed (close code).
    SocketClosed(u32, u16),
    /// One of our ICE candidates (`None`: gathering finished).
    LocalCandidate(u32, Target, Option<String>),
    /// A remote track arrived on a connection.
    RemoteTrack(u32, Box<RemoteMedia>),
    /// A connection's state changed.
    PeerState(u32, Target, RtcPeerConnectionState),
    /// Renegotiate the publisher (tracks added or removed, sections requested).
    Negotiate,
    /// An attached video's visibility or size changed (adaptive stream).
    VideoShown {
        sid: String,
        visible: bool,
        width: u32,
        height: u32,
    },
    /// The clock ticked: keep-alive and loss detection.
    Tick,
}

/// A remote track as `ontrack` delivered it.
pub(crate) struct RemoteMedia {
    pub(crate) mid: Option<String>,
    pub(crate) stream_id: Option<String>,
    pub(crate) track: MediaStreamTrack,
    pub(crate) receiver: web_sys::RtcRtpReceiver,
}

/// What a join or resume attempt came to.
pub(crate) type JoinOutcome = Result<(), ClientError>;

/// Everything the loop and the public API share.
pub(crate) struct State {
    pub(crate) url: String,
    pub(crate) token: String,
    pub(crate) options: RoomOptions,
    pub(crate) mode: ConnectMode,
    pub(crate) session: Session,
    pub(crate) socket: Option<SignalSocket>,
    pub(crate) socket_generation: u32,
    pub(crate) publisher: Option<Peer>,
    pub(crate) subscriber: Option<Peer>,
    pub(crate) peer_generation: u32,
    pub(crate) ice_servers: Vec<proto::IceServer>,
    pub(crate) connection: ConnectionState,
    pub(crate) local_sid: String,
    pub(crate) local_identity: String,
    pub(crate) permission: Option<proto::ParticipantPermission>,
    pub(crate) remotes: Remotes,
    pub(crate) locals: Vec<Rc<LocalInner>>,
    pub(crate) pending_publish: HashMap<String, oneshot::Sender<proto::TrackInfo>>,
    pub(crate) negotiating: bool,
    pub(crate) renegotiate: bool,
    pub(crate) join_waiter: Option<oneshot::Sender<JoinOutcome>>,
    pub(crate) observers: HashMap<String, VideoObserver>,
    pub(crate) shown: HashMap<String, (bool, u32, u32)>,
    pub(crate) rtt_ms: Option<u64>,
    /// Since when a subscribed remote track has had no media (see [`media_overdue`]).
    pub(crate) missing_media_since: Option<u64>,
    pub(crate) reconnecting: bool,
    pub(crate) outbox: Vec<RoomEvent>,
    pub(crate) stats_previous: HashMap<String, (u64, f64)>,
}

impl State {
    pub(crate) fn emit(&mut self, event: RoomEvent) {
        self.outbox.push(event);
    }

    pub(crate) fn set_connection(&mut self, state: ConnectionState) {
        if self.connection != state {
            self.connection = state.clone();
            self.emit(RoomEvent::StateChanged(state));
        }
    }

    pub(crate) fn can_publish(&self) -> bool {
        self.permission.as_ref().is_some_and(|p| p.can_publish)
    }

    /// The connection that carries `target`'s signals in this mode.
    pub(crate) fn peer(&self, target: Target) -> Option<RtcPeerConnection> {
        match (target, self.mode) {
            (Target::Subscriber, ConnectMode::TwoPeerConnections) => {
                self.subscriber.as_ref().map(|p| p.pc.clone())
            }
            _ => self.publisher.as_ref().map(|p| p.pc.clone()),
        }
    }
}

/// The engine: state, the job sender, and the application's event handler.
pub(crate) struct Engine {
    pub(crate) state: RefCell<State>,
    pub(crate) jobs: UnboundedSender<Job>,
    pub(crate) on_event: Option<Rc<dyn Fn(RoomEvent)>>,
}

impl Engine {
    /// Sends queued frames if the socket is open.
    pub(crate) fn flush(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let Some(socket) = st.socket.as_ref().filter(|s| s.is_open()) else {
            return;
        };
        while let Some(frame) = st.session.poll_transmit() {
            socket.send(&frame);
        }
    }

    /// Delivers queued events to the application (state not borrowed).
    pub(crate) fn dispatch(&self) {
        let events = std::mem::take(&mut self.state.borrow_mut().outbox);
        if let Some(handler) = &self.on_event {
            for event in events {
                handler(event);
            }
        }
    }

    /// Queues a job for the loop.
    pub(crate) fn post(&self, job: Job) {
        let _ = self.jobs.unbounded_send(job);
    }

    fn closed(&self) -> bool {
        matches!(
            self.state.borrow().connection,
            ConnectionState::Disconnected { .. }
        )
    }
}

/// The loop: runs until the room is disconnected.
pub(crate) async fn run(engine: Rc<Engine>, mut jobs: UnboundedReceiver<Job>) {
    while let Some(job) = jobs.next().await {
        handle(&engine, job).await;
        engine.flush();
        engine.dispatch();
        if engine.closed() {
            break;
        }
    }
}

async fn handle(engine: &Rc<Engine>, job: Job) {
    match job {
        Job::SocketOpened => {}
        Job::Frame(generation, bytes) => {
            {
                let mut st = engine.state.borrow_mut();
                if generation != st.socket_generation {
                    return;
                }
                if st.session.handle_frame(js::now_ms(), &bytes).is_err() && !st.session.is_joined()
                {
                    resolve_join(&mut st, Err(ClientError::Unreachable));
                }
            }
            drain_session(engine).await;
        }
        Job::SocketClosed(generation, _code) => {
            let joined = {
                let mut st = engine.state.borrow_mut();
                if generation != st.socket_generation {
                    return;
                }
                st.socket = None;
                if st.join_waiter.is_some() {
                    resolve_join(&mut st, Err(ClientError::Unreachable));
                    return;
                }
                st.session.is_joined()
            };
            if joined {
                crate::reconnect::on_loss(engine, LossCause::SocketClosed);
            }
        }
        Job::LocalCandidate(generation, target, candidate) => {
            let mut st = engine.state.borrow_mut();
            if generation == st.peer_generation
                && let Some(candidate) = candidate
            {
                st.session.send_candidate(target, &candidate, false);
            }
        }
        Job::RemoteTrack(generation, media) => {
            let mut st = engine.state.borrow_mut();
            if generation == st.peer_generation {
                js::mark(&["remote-track-", &media.track.kind()].concat());
                let events = st.remotes.add_media(*media);
                st.outbox.extend(events);
            }
        }
        Job::PeerState(generation, _target, state) => {
            if generation != engine.state.borrow().peer_generation {
                return;
            }
            if state == RtcPeerConnectionState::Failed {
                crate::reconnect::on_loss(engine, LossCause::MediaFailed);
            }
        }
        Job::Negotiate => crate::signals::negotiate(engine, false).await,
        Job::VideoShown {
            sid,
            visible,
            width,
            height,
        } => {
            let mut st = engine.state.borrow_mut();
            if st.shown.get(&sid) != Some(&(visible, width, height)) {
                st.shown.insert(sid.clone(), (visible, width, height));
                js::mark(if visible {
                    "video-shown"
                } else {
                    "video-hidden"
                });
                st.session
                    .update_track_settings(&sid, !visible, width, height);
            }
        }
        Job::Tick => {
            engine
                .state
                .borrow_mut()
                .session
                .handle_timeout(js::now_ms());
            drain_session(engine).await;
            if media_overdue(&mut engine.state.borrow_mut(), js::now_ms()) {
                crate::signals::negotiate(engine, false).await;
            }
        }
    }
}

pub(crate) fn resolve_join(st: &mut State, outcome: JoinOutcome) {
    if let Some(waiter) = st.join_waiter.take() {
        let _ = waiter.send(outcome);
    }
}

/// How long a remote track may go without media before the client offers again.
const MEDIA_GRACE_MS: u64 = 3_000;

/// Whether to offer again because a remote track we may receive has had no media (or no
/// packets) for
/// [`MEDIA_GRACE_MS`]: a server that had no free receive section for it when the grant
/// arrived (an admitted patient) assigns one in the answer to a fresh offer. A safety
/// net, not the normal path (`MediaSectionsRequirement` is); it retries at most every
/// grace period.
fn media_overdue(st: &mut State, now_ms: u64) -> bool {
    let may_receive = st.permission.as_ref().is_some_and(|p| p.can_subscribe);
    let missing = may_receive
        && st.session.is_joined()
        && st.mode == ConnectMode::SinglePeerConnection
        && st
            .remotes
            .participants
            .iter()
            .any(|p| p.tracks.iter().any(|t| !t.muted && !receiving(t)));
    if !missing || st.negotiating {
        st.missing_media_since = if missing {
            st.missing_media_since
        } else {
            None
        };
        return false;
    }
    match st.missing_media_since {
        None => {
            st.missing_media_since = Some(now_ms);
            false
        }
        Some(since) if now_ms >= since + MEDIA_GRACE_MS => {
            st.missing_media_since = Some(now_ms);
            true
        }
        Some(_) => false,
    }
}

/// Whether RTP arrives for a remote track: its media is attached and its receiver has
/// heard a packet in the last ten seconds (`getSynchronizationSources`, no await).
fn receiving(track: &crate::remote::RemoteTrack) -> bool {
    let Some(receiver) = track.receiver.as_ref() else {
        return false;
    };
    js::call(receiver, "getSynchronizationSources", &[])
        .ok()
        .and_then(|sources| sources.dyn_into::<js_sys::Array>().ok())
        .is_some_and(|sources| sources.length() > 0)
}

/// Handles every event the session has queued.
async fn drain_session(engine: &Rc<Engine>) {
    loop {
        let event = engine.state.borrow_mut().session.poll_event();
        let Some(event) = event else { break };
        crate::signals::on_signal(engine, event).await;
        engine.flush();
    }
}
