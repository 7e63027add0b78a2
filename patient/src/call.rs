//! The patient's call: one `bedside_client::Room`, our camera, microphone and screen,
//! and what the page shows of them ([`crate::stage`]). The device check connects it
//! hidden and sending nothing ([`Call::join`] with `publish: false`); Join sends the
//! checked tracks ([`Call::publish_prepared`]).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use app::call::CallState;
use bedside_client::{
    ClientError, ConnectionState, LocalTrack, Quality, Room, RoomEvent, RoomOptions, Route,
    TrackSource,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStreamTrack;

use crate::dom::{Every, every};
use crate::http;
use crate::stage::Stage;
use crate::wire::MediaToken;

/// The call. Cheap to clone; every clone is the same call.
#[derive(Clone, Default)]
pub struct Call(Rc<Inner>);

/// Told of every change to a call.
pub type Watcher = Rc<dyn Fn(&Call)>;

#[derive(Default)]
struct Inner {
    room: RefCell<Option<Room>>,
    camera: RefCell<Option<LocalTrack>>,
    mic: RefCell<Option<LocalTrack>>,
    screen: RefCell<Option<LocalTrack>>,
    /// The device check's captures, sent on Join.
    prepared: RefCell<(Option<MediaStreamTrack>, Option<MediaStreamTrack>)>,
    /// Join came while the room was still connecting: publish once it is up.
    publish_on_connect: RefCell<bool>,
    state: RefCell<CallState>,
    error: RefCell<Option<String>>,
    quality: RefCell<Option<Quality>>,
    route: RefCell<Option<Route>>,
    /// Bytes received so far per remote track sid.
    received: RefCell<Vec<(String, u64)>>,
    stage: RefCell<Option<Stage>>,
    /// Told of every change (the device check's video line).
    watcher: RefCell<Option<Watcher>>,
    sampler: RefCell<Option<Every>>,
}

impl Call {
    /// Joins the call of `meeting_id` with the visit session's media token; sends the
    /// prepared (or freshly captured) camera and microphone if `publish`.
    pub fn join(&self, meeting_id: &str, publish: bool) {
        let call = self.clone();
        let body = TokenRequest {
            meeting_id: meeting_id.to_owned(),
        };
        self.set_state(CallState::Connecting);
        spawn_local(async move {
            match http::post::<MediaToken>("/api/v1/livekit/token", &body).await {
                Ok(token) => call.connect(token, publish).await,
                Err(error) => {
                    call.0.error.replace(Some(error.message.clone()));
                    call.set_state(CallState::Ended(error.message));
                }
            }
        });
    }

    async fn connect(&self, token: MediaToken, publish: bool) {
        let weak = Rc::downgrade(&self.0);
        let options = RoomOptions {
            on_event: Some(Rc::new(move |event| {
                if let Some(inner) = Weak::upgrade(&weak) {
                    Call(inner).on_event(event);
                }
            })),
            ..Default::default()
        };
        let room = match Room::connect(&token.livekit_url, &token.token, options).await {
            Ok(room) => room,
            Err(error) => {
                self.0.error.replace(Some(error.human_message()));
                self.set_state(CallState::Ended(error.human_message()));
                return;
            }
        };
        self.0.room.replace(Some(room.clone()));
        self.follow_quality(room.clone());
        self.changed();
        if publish || self.0.publish_on_connect.take() {
            self.publish_into(room).await;
        }
    }

    fn on_event(&self, event: RoomEvent) {
        if let RoomEvent::StateChanged(state) = event {
            self.0.state.replace(match state {
                ConnectionState::Connecting => CallState::Connecting,
                ConnectionState::Connected => CallState::Connected,
                ConnectionState::Reconnecting => CallState::Reconnecting,
                ConnectionState::Disconnected { reason } => CallState::Ended(match reason {
                    ClientError::Disconnected(_) => "You have left the call.".into(),
                    other => other.human_message(),
                }),
            });
        }
        self.changed();
    }

    fn set_state(&self, state: CallState) {
        self.0.state.replace(state);
        self.changed();
    }

    /// Redraws the stage and tells the watcher.
    fn changed(&self) {
        if let Some(stage) = self.0.stage.borrow_mut().as_mut() {
            stage.render(self);
        }
        let watcher = self.0.watcher.borrow().clone();
        if let Some(watcher) = watcher {
            watcher(self);
        }
    }

    /// Where the call stands.
    pub fn state(&self) -> CallState {
        self.0.state.borrow().clone()
    }

    /// The last error, in plain words.
    pub fn error(&self) -> Option<String> {
        self.0.error.borrow().clone()
    }

    /// The quality level of the last sample.
    pub fn quality(&self) -> Option<Quality> {
        *self.0.quality.borrow()
    }

    /// How media reaches the server, once known.
    pub fn route(&self) -> Option<Route> {
        *self.0.route.borrow()
    }

    /// The room, once connected.
    pub fn room(&self) -> Option<Room> {
        self.0.room.borrow().clone()
    }

    /// Bytes received so far on a remote track.
    pub fn received_bytes(&self, track_sid: &str) -> u64 {
        self.0
            .received
            .borrow()
            .iter()
            .find(|(sid, _)| sid == track_sid)
            .map_or(0, |(_, bytes)| *bytes)
    }

    /// Our microphone and camera are on (captured and not muted), and a screen is shared.
    pub fn local(&self) -> (bool, bool, bool) {
        let on =
            |t: &RefCell<Option<LocalTrack>>| t.borrow().as_ref().is_some_and(|t| !t.is_muted());
        (
            on(&self.0.mic),
            on(&self.0.camera),
            self.0.screen.borrow().is_some(),
        )
    }

    /// Our camera's media, for the self view.
    pub fn camera_media(&self) -> Option<MediaStreamTrack> {
        self.0.camera.borrow().as_ref().map(LocalTrack::media)
    }

    /// Calls `watcher` on every change until [`Call::unwatch`].
    pub fn watch(&self, watcher: Watcher) {
        self.0.watcher.replace(Some(watcher));
    }

    /// Stops telling the watcher.
    pub fn unwatch(&self) {
        self.0.watcher.replace(None);
    }

    /// Draws the call into `stage` from now on.
    pub fn show(&self, stage: Stage) {
        self.0.stage.replace(Some(stage));
        self.changed();
    }

    /// Keeps the device check's captures, to send on Join.
    pub fn prepare(&self, camera: Option<MediaStreamTrack>, mic: Option<MediaStreamTrack>) {
        self.0.prepared.replace((camera, mic));
    }

    /// Sends the prepared camera and microphone into the room: now if it is up, else
    /// the moment it is (a patient who presses Join while the check is still
    /// connecting would otherwise never be seen).
    pub fn publish_prepared(&self) {
        let Some(room) = self.room() else {
            self.0.publish_on_connect.replace(true);
            return;
        };
        let call = self.clone();
        spawn_local(async move { call.publish_into(room).await });
    }

    /// Publishes the microphone, then the camera: the prepared tracks, or fresh ones.
    async fn publish_into(&self, room: Room) {
        let (camera, mic) = self.0.prepared.take();
        let published = match mic {
            Some(track) => room.publish_track(track, TrackSource::Microphone).await,
            None => room.publish_microphone(None).await,
        };
        self.keep(&self.0.mic, published);
        let published = match camera {
            Some(track) => room.publish_track(track, TrackSource::Camera).await,
            None => room.publish_camera(None).await,
        };
        self.keep(&self.0.camera, published);
        self.changed();
    }

    fn keep(&self, slot: &RefCell<Option<LocalTrack>>, published: Result<LocalTrack, ClientError>) {
        match published {
            Ok(track) => {
                slot.replace(Some(track));
            }
            Err(error) => {
                self.0.error.replace(Some(error.human_message()));
            }
        }
    }

    /// Samples the statistics every two seconds while the room is up.
    fn follow_quality(&self, room: Room) {
        let weak = Rc::downgrade(&self.0);
        let sampler = every(2_000, move || {
            let (Some(inner), room) = (Weak::upgrade(&weak), room.clone()) else {
                return;
            };
            spawn_local(async move {
                let stats = room.stats().await;
                inner.quality.replace(Some(stats.quality));
                if stats.route.is_some() {
                    inner.route.replace(stats.route);
                }
                inner.received.replace(
                    stats
                        .streams
                        .iter()
                        .filter(|s| s.direction == bedside_client::Direction::Inbound)
                        .map(|s| (s.track_sid.clone(), s.bytes))
                        .collect(),
                );
                Call(inner).changed();
            });
        });
        self.0.sampler.replace(Some(sampler));
    }

    fn toggle(&self, slot: &RefCell<Option<LocalTrack>>) {
        let track = slot.borrow().clone();
        if let (Some(room), Some(track)) = (self.room(), track) {
            room.set_muted(&track, !track.is_muted());
        }
        self.changed();
    }

    /// Mutes or unmutes the microphone.
    pub fn toggle_mic(&self) {
        self.toggle(&self.0.mic);
    }

    /// Turns the camera off or on (it stays published, muted).
    pub fn toggle_camera(&self) {
        self.toggle(&self.0.camera);
    }

    /// Starts or stops sharing the screen.
    pub fn toggle_screen(&self) {
        let Some(room) = self.room() else { return };
        if let Some(screen) = self.0.screen.take() {
            room.unpublish(&screen);
            self.changed();
            return;
        }
        let call = self.clone();
        spawn_local(async move {
            let shared = room.publish_screen().await;
            call.keep(&call.0.screen, shared);
            call.changed();
        });
    }

    /// Leaves the call.
    pub fn leave(&self) {
        if let Some(room) = self.room() {
            room.disconnect();
        }
        self.0.sampler.replace(None);
        let (camera, mic) = self.0.prepared.take();
        camera.into_iter().chain(mic).for_each(|t| t.stop());
    }
}

#[derive(serde::Serialize)]
struct TokenRequest {
    meeting_id: String,
}
