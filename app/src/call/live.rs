//! The browser half of [`CallHandle`]: the room itself, and the signals kept in step
//! with its events.

use std::rc::Rc;

use bedside_client::{
    ClientError, ConnectMode, ConnectionState, LocalTrack, Room, RoomEvent, RoomOptions, Scenario,
    TrackKind,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{CallHandle, CallState, JoinChoice, LocalView, PeerState, Tile};

/// The room and our tracks.
#[derive(Default)]
pub(super) struct Live {
    room: Option<Room>,
    camera: Option<LocalTrack>,
    mic: Option<LocalTrack>,
    screen: Option<LocalTrack>,
    sampler: Option<leptos::leptos_dom::helpers::IntervalHandle>,
}

impl CallHandle {
    fn room(self) -> Option<Room> {
        self.inner.with_value(|i| i.room.clone())
    }

    /// Brings the signals in line with the room.
    fn refresh(self) {
        let Some(room) = self.room() else { return };
        let tiles = room
            .participants()
            .into_iter()
            .flat_map(|p| {
                p.tracks.into_iter().map(move |t| Tile {
                    identity: p.identity.clone(),
                    name: p.name.clone(),
                    track_sid: t.sid,
                    video: t.kind == TrackKind::Video,
                    source: t.source.as_str_name().to_lowercase(),
                    muted: t.muted,
                    paused: t.paused,
                    ready: t.media.is_some(),
                })
            })
            .collect::<Vec<_>>();
        self.tiles.set(tiles);
        let peers: Vec<PeerState> = room
            .participants()
            .into_iter()
            .map(|p| PeerState {
                identity: p.identity,
                link: p
                    .connection_quality
                    .map(bedside_client::Quality::word)
                    .unwrap_or_default()
                    .to_string(),
                speaking: p.speaking,
            })
            .collect();
        if self.peers.with_untracked(|known| *known != peers) {
            self.peers.set(peers);
        }
        let view = self.inner.with_value(|i| LocalView {
            can_publish: room.can_publish(),
            mic_on: i.mic.as_ref().is_some_and(|t| !t.is_muted()),
            camera_on: i.camera.as_ref().is_some_and(|t| !t.is_muted()),
            sharing: i.screen.is_some(),
            camera_published: i.camera.as_ref().is_some_and(|t| t.is_published()),
        });
        self.local.set(view);
        self.mode.set(match room.mode() {
            ConnectMode::SinglePeerConnection => "one".into(),
            ConnectMode::TwoPeerConnections => "two".into(),
        });
    }

    fn on_event(self, event: RoomEvent) {
        if let RoomEvent::StateChanged(state) = &event {
            self.state.set(match state {
                ConnectionState::Connecting => CallState::Connecting,
                ConnectionState::Connected => CallState::Connected,
                ConnectionState::Reconnecting => CallState::Reconnecting,
                ConnectionState::Disconnected { reason } => CallState::Ended(match reason {
                    ClientError::Disconnected(_) => "You have left the call.".into(),
                    other => other.human_message(),
                }),
            });
        }
        self.refresh();
    }

    /// Joins the room at `url` with `token`, publishing what `choice` asks for (as soon
    /// as the grant allows).
    pub fn connect(self, url: String, token: String, choice: JoinChoice) {
        self.state.set(CallState::Connecting);
        self.error.set(None);
        spawn_local(async move {
            let options = RoomOptions {
                mode: if choice.two_connections {
                    ConnectMode::TwoPeerConnections
                } else {
                    ConnectMode::SinglePeerConnection
                },
                on_event: Some(Rc::new(move |event| self.on_event(event))),
                ..Default::default()
            };
            let room = match Room::connect(&url, &token, options).await {
                Ok(room) => room,
                Err(error) => {
                    self.error.set(Some(error.human_message()));
                    self.state.set(CallState::Ended(error.human_message()));
                    return;
                }
            };
            self.inner.update_value(|i| i.room = Some(room.clone()));
            self.refresh();
            self.follow_quality(room.clone());
            self.publish_chosen(room, choice).await;
        });
    }

    /// Captures and publishes what `choice` names.
    async fn publish_chosen(self, room: Room, choice: JoinChoice) {
        if choice.microphone {
            match room.publish_microphone(None).await {
                Ok(track) => self.inner.update_value(|i| i.mic = Some(track)),
                Err(error) => self.error.set(Some(error.human_message())),
            }
        }
        if choice.camera {
            match room.publish_camera(None).await {
                Ok(track) => self.inner.update_value(|i| i.camera = Some(track)),
                Err(error) => self.error.set(Some(error.human_message())),
            }
        }
        self.refresh();
    }

    /// Samples the media statistics every two seconds while the room is up: the
    /// quality level and each remote track's received bytes.
    fn follow_quality(self, room: Room) {
        let handle = set_interval_with_handle(
            move || {
                let room = room.clone();
                spawn_local(async move {
                    let stats = room.stats().await;
                    self.quality.set(stats.quality.word().into());
                    if let Some(route) = stats.route {
                        let route = match route {
                            bedside_client::Route::DirectUdp => "udp",
                            bedside_client::Route::DirectTcp => "tcp",
                            bedside_client::Route::Relayed => "relay",
                        };
                        if self.route.get_untracked() != route {
                            self.route.set(route.into());
                        }
                    }
                    let received = stats
                        .streams
                        .iter()
                        .filter(|s| s.direction == bedside_client::Direction::Inbound)
                        .map(|s| (s.track_sid.clone(), s.bytes))
                        .collect();
                    self.received.set(received);
                });
            },
            std::time::Duration::from_secs(2),
        );
        if let Ok(handle) = handle {
            self.inner.update_value(|i| i.sampler = Some(handle));
        }
    }

    /// Our camera's media (for the self view).
    pub fn camera_media(self) -> Option<web_sys::MediaStreamTrack> {
        self.inner
            .with_value(|i| i.camera.as_ref().map(|t| t.media()))
    }

    /// Shows a remote track in `element` (adaptive stream watches videos).
    pub fn attach(self, track_sid: &str, element: &web_sys::HtmlMediaElement) -> bool {
        self.room()
            .is_some_and(|room| room.attach(track_sid, element))
    }

    /// Stops watching a remote video.
    pub fn detach(self, track_sid: &str) {
        if let Some(room) = self.room() {
            room.detach(track_sid);
        }
    }

    fn toggle(self, pick: fn(&Live) -> Option<LocalTrack>) {
        let (Some(room), Some(track)) = (self.room(), self.inner.with_value(pick)) else {
            return;
        };
        room.set_muted(&track, !track.is_muted());
        self.refresh();
    }

    /// Mutes or unmutes the microphone.
    pub fn toggle_mic(self) {
        self.toggle(|i| i.mic.clone());
    }

    /// Turns the camera off or on (it stays published, muted).
    pub fn toggle_camera(self) {
        self.toggle(|i| i.camera.clone());
    }

    /// Starts or stops sharing the screen.
    pub fn toggle_screen(self) {
        let Some(room) = self.room() else { return };
        if let Some(screen) = self.inner.with_value(|i| i.screen.clone()) {
            room.unpublish(&screen);
            self.inner.update_value(|i| i.screen = None);
            self.refresh();
            return;
        }
        spawn_local(async move {
            match room.publish_screen().await {
                Ok(track) => self.inner.update_value(|i| i.screen = Some(track)),
                Err(error) => self.error.set(Some(error.human_message())),
            }
            self.refresh();
        });
    }

    /// Lists cameras and microphones into `choices`, with the ones in use.
    pub fn load_device_choices(self, choices: RwSignal<super::DeviceChoices>) {
        spawn_local(async move {
            let Ok(devices) = bedside_client::list_devices().await else {
                return;
            };
            let pick = |kind: bedside_client::DeviceKind| {
                devices
                    .iter()
                    .filter(|d| d.kind == kind)
                    .map(|d| super::DeviceChoice {
                        id: d.device_id.clone(),
                        label: d.label.clone(),
                    })
                    .collect()
            };
            let in_use = |track: Option<LocalTrack>| {
                let settings = track?.media().get_settings();
                js_sys::Reflect::get(&settings, &"deviceId".into())
                    .ok()?
                    .as_string()
            };
            let (camera, mic) = self.inner.with_value(|i| (i.camera.clone(), i.mic.clone()));
            choices.set(super::DeviceChoices {
                cameras: pick(bedside_client::DeviceKind::Camera),
                mics: pick(bedside_client::DeviceKind::Microphone),
                camera_id: in_use(camera),
                mic_id: in_use(mic),
            });
        });
    }

    /// Switches the microphone to `device_id` in place.
    pub fn switch_microphone(self, device_id: String) {
        self.switch(device_id, |i| i.mic.clone());
    }

    /// Switches the camera to `device_id` in place.
    pub fn switch_camera(self, device_id: String) {
        self.switch(device_id, |i| i.camera.clone());
    }

    /// Replaces a published track's media with the device `device_id`
    /// (`replaceTrack`): no renegotiation, and the other side keeps the same track. A
    /// device that fails to open leaves the call as it was.
    fn switch(self, device_id: String, pick: fn(&Live) -> Option<LocalTrack>) {
        let (Some(room), Some(track)) = (self.room(), self.inner.with_value(pick)) else {
            return;
        };
        spawn_local(async move {
            if let Err(error) = room.switch_device(&track, &device_id).await {
                self.error.set(Some(error.human_message()));
            }
            self.refresh();
        });
    }

    /// Leaves the call.
    pub fn leave(self) {
        if let Some(room) = self.room() {
            room.disconnect();
        }
        self.inner.update_value(|i| {
            if let Some(sampler) = i.sampler.take() {
                sampler.clear();
            }
        });
    }

    /// Drops the signal connection to exercise recovery.
    pub fn simulate_signal_loss(self) {
        if let Some(room) = self.room() {
            room.simulate(Scenario::SignalLoss);
        }
    }

    /// A JSON array of every stream's counters, with remote streams named by track sid
    /// (for the demo page and the browser tests).
    pub async fn stats_json(self) -> String {
        let Some(room) = self.room() else {
            return "[]".into();
        };
        let stats = room.stats().await;
        let participants = room.participants();
        let identity_of = |sid: &str| {
            participants
                .iter()
                .find(|p| p.tracks.iter().any(|t| t.sid == sid))
                .map(|p| p.identity.clone())
                .unwrap_or_default()
        };
        let rows: Vec<String> = stats
            .streams
            .iter()
            .map(|s| {
                let identity = identity_of(&s.track_sid);
                format!(
                    r#"{{"dir":"{}","kind":"{}","identity":"{}","sid":"{}","mid":"{}","rid":"{}","bytes":{},"frames":{},"width":{},"height":{},"bitrate":{}}}"#,
                    if s.direction == bedside_client::Direction::Inbound { "in" } else { "out" },
                    s.kind, identity, s.track_sid, s.mid, s.rid, s.bytes, s.frames, s.frame_width, s.frame_height, s.bitrate_bps
                )
            })
            .collect();
        format!("[{}]", rows.join(","))
    }
}
