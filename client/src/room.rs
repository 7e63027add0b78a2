//! The public API: [`Room::connect`], local tracks, remote participants, attaching
//! media to elements, stats, and typed events and connection states.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use bedside_signal::{ConnectMode, ReconnectPolicy, Session};
use futures_channel::mpsc;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlMediaElement, MediaStreamTrack};

use crate::adaptive::VideoObserver;
use crate::engine::{self, Engine, Job, State};
use crate::error::ClientError;
use crate::js;
use crate::media::{self, TrackSource};
use crate::publish::{self, LocalInner, LocalTrack};
use crate::remote::{RemoteParticipant, Remotes};
use crate::stats::{self, Stats};

/// Where the room stands, for the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Joining.
    Connecting,
    /// In the room.
    Connected,
    /// Lost the server or media; trying to get back (resume, then rejoin).
    Reconnecting,
    /// Out of the room, and why.
    Disconnected {
        /// The reason.
        reason: ClientError,
    },
}

/// What happened, for the UI. Read the details from the room ([`Room::participants`],
/// [`Room::state`]) when it arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// The connection state changed.
    StateChanged(ConnectionState),
    /// Someone joined, left, published, unpublished, muted or unmuted, or the server
    /// paused or resumed one of their tracks for this side's bandwidth.
    ParticipantsChanged,
    /// A remote track's media arrived.
    TrackSubscribed {
        /// Whose.
        participant: String,
        /// Which.
        track_sid: String,
    },
    /// One of our tracks was published, taken down, muted or unmuted.
    LocalTracksChanged,
    /// Our grant changed (e.g. a patient admitted from the waiting room).
    PermissionChanged {
        /// May publish now.
        can_publish: bool,
        /// May subscribe now.
        can_subscribe: bool,
    },
}

/// How to join.
#[derive(Clone)]
pub struct RoomOptions {
    /// One peer connection (`/rtc/v1`, LiveKit's default) or two (`/rtc`). With one,
    /// a server without `/rtc/v1` makes the client fall back to two.
    pub mode: ConnectMode,
    /// Subscribe to every track.
    pub auto_subscribe: bool,
    /// Report attached video sizes so the SFU sends fitting layers.
    pub adaptive_stream: bool,
    /// Publish cameras with simulcast layers.
    pub simulcast: bool,
    /// Retry delays after a loss.
    pub reconnect: ReconnectPolicy,
    /// Called with every event.
    pub on_event: Option<Rc<dyn Fn(RoomEvent)>>,
}

impl Default for RoomOptions {
    fn default() -> Self {
        Self {
            mode: ConnectMode::SinglePeerConnection,
            auto_subscribe: true,
            adaptive_stream: true,
            simulcast: true,
            reconnect: ReconnectPolicy::default(),
            on_event: None,
        }
    }
}

/// Ways to test recovery (LiveKit's SDK has the same idea in `simulateScenario`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The signal socket drops (the client resumes).
    SignalLoss,
}

/// A connected room. Cheap to clone; every clone is the same room.
#[derive(Clone)]
pub struct Room {
    engine: Rc<Engine>,
    _tick: Rc<js::Callback<dyn FnMut()>>,
    tick_id: i32,
}

impl Room {
    /// Joins the room at `url` (`ws(s)://host`) with an access token.
    pub async fn connect(
        url: &str,
        token: &str,
        options: RoomOptions,
    ) -> Result<Room, ClientError> {
        let window = web_sys::window().ok_or(ClientError::UnsupportedBrowser)?;
        if js::get(&window, "RTCPeerConnection").is_undefined()
            || js::get(&window, "WebSocket").is_undefined()
        {
            return Err(ClientError::UnsupportedBrowser);
        }
        let (jobs, receiver) = mpsc::unbounded();
        let mode = options.mode;
        let state = State {
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            options: options.clone(),
            mode,
            session: Session::new(js::now_ms(), false),
            socket: None,
            socket_generation: 0,
            publisher: None,
            subscriber: None,
            peer_generation: 0,
            ice_servers: Vec::new(),
            connection: ConnectionState::Connecting,
            local_sid: String::new(),
            local_identity: String::new(),
            permission: None,
            remotes: Remotes::default(),
            locals: Vec::new(),
            pending_publish: HashMap::new(),
            negotiating: false,
            renegotiate: false,
            join_waiter: None,
            observers: HashMap::new(),
            shown: HashMap::new(),
            rtt_ms: None,
            missing_media_since: None,
            reconnecting: false,
            outbox: vec![RoomEvent::StateChanged(ConnectionState::Connecting)],
            stats_previous: HashMap::new(),
        };
        let engine = Rc::new(Engine {
            state: RefCell::new(state),
            jobs: jobs.clone(),
            on_event: options.on_event.clone(),
        });
        engine.dispatch();
        wasm_bindgen_futures::spawn_local(engine::run(engine.clone(), receiver));
        let tick_jobs = jobs.clone();
        let tick = Rc::new(js::Callback::new(Closure::<dyn FnMut()>::new(move || {
            let _ = tick_jobs.unbounded_send(Job::Tick);
        })));
        let tick_id = window
            .set_interval_with_callback_and_timeout_and_arguments_0(tick.function(), 1000)
            .unwrap_or(0);
        let room = Room {
            engine,
            _tick: tick,
            tick_id,
        };
        let mut outcome = crate::reconnect::join(&room.engine, mode).await;
        if outcome.is_err() {
            let reason = crate::reconnect::explain_failure(url, token, mode).await;
            outcome = match reason {
                ClientError::Disconnected(_) if mode == ConnectMode::SinglePeerConnection => {
                    crate::reconnect::join(&room.engine, ConnectMode::TwoPeerConnections).await
                }
                reason => Err(reason),
            };
        }
        room.engine.flush();
        room.engine.dispatch();
        match outcome {
            Ok(()) => Ok(room),
            Err(error) => {
                crate::reconnect::disconnect(&room.engine, error.clone());
                room.engine.dispatch();
                room.stop_ticking();
                Err(error)
            }
        }
    }

    fn stop_ticking(&self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.tick_id);
        }
    }

    /// Where the room stands.
    pub fn state(&self) -> ConnectionState {
        self.engine.state.borrow().connection.clone()
    }

    /// Which connection flow is in use.
    pub fn mode(&self) -> ConnectMode {
        self.engine.state.borrow().mode
    }

    /// Our identity and sid.
    pub fn local_identity(&self) -> (String, String) {
        let st = self.engine.state.borrow();
        (st.local_identity.clone(), st.local_sid.clone())
    }

    /// Whether our grant allows publishing now.
    pub fn can_publish(&self) -> bool {
        self.engine.state.borrow().can_publish()
    }

    /// Everyone else, in join order.
    pub fn participants(&self) -> Vec<RemoteParticipant> {
        self.engine.state.borrow().remotes.participants.clone()
    }

    /// Our local tracks (published or waiting for a grant).
    pub fn local_tracks(&self) -> Vec<LocalTrack> {
        let st = self.engine.state.borrow();
        st.locals
            .iter()
            .map(|inner| LocalTrack {
                inner: inner.clone(),
            })
            .collect()
    }

    /// The last signaling round trip, in ms.
    pub fn rtt_ms(&self) -> Option<u64> {
        self.engine.state.borrow().rtt_ms
    }

    /// Captures and publishes the camera (simulcast per the options).
    pub async fn publish_camera(&self, device_id: Option<&str>) -> Result<LocalTrack, ClientError> {
        let track = media::capture_camera(device_id).await?;
        self.publish_track(track, TrackSource::Camera).await
    }

    /// Captures and publishes the microphone.
    pub async fn publish_microphone(
        &self,
        device_id: Option<&str>,
    ) -> Result<LocalTrack, ClientError> {
        let track = media::capture_microphone(device_id).await?;
        self.publish_track(track, TrackSource::Microphone).await
    }

    /// Asks for a screen and publishes it as a screen share.
    pub async fn publish_screen(&self) -> Result<LocalTrack, ClientError> {
        let track = media::capture_screen().await?;
        self.publish_track(track, TrackSource::ScreenShare).await
    }

    /// Publishes a captured track. Without a publish grant it waits, and is published
    /// as soon as one arrives.
    pub async fn publish_track(
        &self,
        track: MediaStreamTrack,
        source: TrackSource,
    ) -> Result<LocalTrack, ClientError> {
        let simulcast = self.engine.state.borrow().options.simulcast;
        let inner = Rc::new(LocalInner::new(track, source, simulcast)?);
        let result = publish::publish(&self.engine, &inner).await;
        self.engine.dispatch();
        result.map(|()| LocalTrack { inner })
    }

    /// Mutes or unmutes a local track (it stays published).
    pub fn set_muted(&self, local: &LocalTrack, muted: bool) {
        publish::set_muted(&self.engine, &local.inner, muted);
        self.engine.dispatch();
    }

    /// Switches a camera or microphone to another device without renegotiating.
    pub async fn switch_device(
        &self,
        local: &LocalTrack,
        device_id: &str,
    ) -> Result<(), ClientError> {
        let track = match local.source() {
            TrackSource::Camera => media::capture_camera(Some(device_id)).await?,
            TrackSource::Microphone => media::capture_microphone(Some(device_id)).await?,
            TrackSource::ScreenShare => return Ok(()),
        };
        track.set_enabled(!local.is_muted());
        let transceiver = local.inner.transceiver.borrow().clone();
        if let Some(transceiver) = transceiver {
            let promise = transceiver.sender().replace_track(Some(&track));
            wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|e| ClientError::from_js(&e))?;
        }
        let old = local.inner.track.replace(Clone::clone(&track));
        local.inner.stream.remove_track(&old);
        local.inner.stream.add_track(&track);
        old.stop();
        self.engine
            .state
            .borrow_mut()
            .emit(RoomEvent::LocalTracksChanged);
        self.engine.dispatch();
        Ok(())
    }

    /// Stops publishing and capturing a local track.
    pub fn unpublish(&self, local: &LocalTrack) {
        publish::take_down(&self.engine, &local.inner, true);
        self.engine.dispatch();
    }

    /// Shows a remote track in an `<audio>` or `<video>` element and starts it playing
    /// ([`media::show`]). Videos are watched for size and visibility (adaptive stream)
    /// until [`Room::detach`].
    pub fn attach(&self, track_sid: &str, element: &HtmlMediaElement) -> bool {
        let Some(track) = self.engine.state.borrow().remotes.media(track_sid) else {
            return false;
        };
        crate::js::mark(&["attach-", &track.kind()].concat());
        media::show(element, &track);
        let adaptive = self.engine.state.borrow().options.adaptive_stream;
        if adaptive
            && track.kind() == "video"
            && let Some(observer) =
                VideoObserver::watch(track_sid.to_owned(), element, self.engine.jobs.clone())
        {
            self.engine
                .state
                .borrow_mut()
                .observers
                .insert(track_sid.to_owned(), observer);
        }
        true
    }

    /// Stops watching a remote video attached with [`Room::attach`].
    pub fn detach(&self, track_sid: &str) {
        self.engine.state.borrow_mut().observers.remove(track_sid);
    }

    /// A sample of every stream's statistics.
    pub async fn stats(&self) -> Stats {
        let (pcs, receivers, senders) = {
            let st = self.engine.state.borrow();
            let pcs: Vec<_> = [st.publisher.as_ref(), st.subscriber.as_ref()]
                .into_iter()
                .flatten()
                .map(|p| p.pc.clone())
                .collect();
            let senders: Vec<_> = st
                .locals
                .iter()
                .filter_map(|l| {
                    let sid = l.sid.borrow().clone()?;
                    Some((sid, l.transceiver.borrow().as_ref()?.sender()))
                })
                .collect();
            (pcs, st.remotes.receivers(), senders)
        };
        let mut previous = std::mem::take(&mut self.engine.state.borrow_mut().stats_previous);
        let mut streams = Vec::new();
        let (mut rtt_ms, mut route) = (None, None);
        for pc in pcs {
            let pair = stats::sample(pc.get_stats(), None, &mut previous, &mut streams).await;
            rtt_ms = pair.rtt_ms.or(rtt_ms);
            route = pair.route.or(route);
        }
        for (sid, receiver) in receivers {
            stats::sample(
                receiver.get_stats(),
                Some(&sid),
                &mut previous,
                &mut streams,
            )
            .await;
        }
        for (sid, sender) in senders {
            stats::sample(sender.get_stats(), Some(&sid), &mut previous, &mut streams).await;
        }
        self.engine.state.borrow_mut().stats_previous = previous;
        let quality = stats::quality(&streams, rtt_ms);
        Stats {
            streams,
            rtt_ms,
            route,
            quality,
        }
    }

    /// Forces a failure, to exercise recovery.
    pub fn simulate(&self, scenario: Scenario) {
        match scenario {
            Scenario::SignalLoss => {
                let generation = {
                    let mut st = self.engine.state.borrow_mut();
                    if let Some(socket) = st.socket.take() {
                        socket.close();
                    }
                    st.socket_generation
                };
                self.engine.post(Job::SocketClosed(generation, 1006));
            }
        }
    }

    /// Leaves the room (tells the server, stops capture, closes everything).
    pub fn disconnect(&self) {
        self.engine.state.borrow_mut().session.leave();
        self.engine.flush();
        crate::reconnect::disconnect(
            &self.engine,
            ClientError::Disconnected("client initiated".into()),
        );
        self.engine.dispatch();
        self.stop_ticking();
    }
}
