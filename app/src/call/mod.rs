//! The call in the portal: [`CallHandle`] puts a `bedside_client::Room` behind Leptos
//! signals (connection state, remote tiles, our own tracks), and [`stage::CallStage`]
//! draws it. The media client is browser-only: under `ssr` the handle renders its idle
//! state and its actions do nothing, so pages render on the server unchanged.

pub mod arrivals;
pub mod devices;
pub mod events;
pub mod pip;
pub mod portal;
pub mod stage;

use leptos::prelude::*;

/// Where the call stands, for people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CallState {
    /// Not joined.
    #[default]
    Idle,
    /// Joining.
    Connecting,
    /// In the call.
    Connected,
    /// Getting back after a network problem.
    Reconnecting,
    /// Left or ended, with a message.
    Ended(String),
}

impl CallState {
    /// The words shown (and announced) for this state.
    pub fn label(&self) -> String {
        match self {
            Self::Idle => "Not connected".into(),
            Self::Connecting => "Connecting…".into(),
            Self::Connected => "Connected".into(),
            Self::Reconnecting => "Reconnecting…".into(),
            Self::Ended(message) => message.clone(),
        }
    }
}

/// One remote track on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    /// Whose.
    pub identity: String,
    /// Their display name.
    pub name: String,
    /// The track.
    pub track_sid: String,
    /// Video (else audio).
    pub video: bool,
    /// "camera", "microphone", "screen_share".
    pub source: String,
    /// Muted by its publisher.
    pub muted: bool,
    /// Paused by the server: this side's connection cannot carry the video now.
    pub paused: bool,
    /// Its media arrived (can be attached).
    pub ready: bool,
}

/// What to say on `name`'s video tile when the server grades their connection `link`
/// (see [`PeerState::link`]): nothing while it is good. The portal and the patient's
/// page say the same.
pub fn peer_link_note(name: &str, link: &str) -> Option<String> {
    match link {
        "poor" => Some(format!(
            "{name}'s connection is weak: their picture and sound may break up."
        )),
        "lost" => Some(format!(
            "{name}'s connection dropped. Waiting for them to come back…"
        )),
        _ => None,
    }
}

/// What the server says of a remote participant, beside their tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerState {
    /// Whose.
    pub identity: String,
    /// Their connection as the server grades it ("excellent", "good", "poor", "lost",
    /// as [`CallHandle::quality`]; empty until it said).
    pub link: String,
    /// They are speaking.
    pub speaking: bool,
}

/// Our side of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalView {
    /// The grant allows publishing.
    pub can_publish: bool,
    /// The microphone is captured and not muted.
    pub mic_on: bool,
    /// The camera is captured and not muted.
    pub camera_on: bool,
    /// A screen is shared.
    pub sharing: bool,
    /// The camera is on the wire (published).
    pub camera_published: bool,
}

/// A camera or microphone to choose in the call's device menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChoice {
    /// The browser's device id.
    pub id: String,
    /// Its label (empty until the page was allowed to capture once).
    pub label: String,
}

/// What the device menu offers, and what is in use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChoices {
    /// Cameras.
    pub cameras: Vec<DeviceChoice>,
    /// Microphones.
    pub mics: Vec<DeviceChoice>,
    /// The camera in use.
    pub camera_id: Option<String>,
    /// The microphone in use.
    pub mic_id: Option<String>,
}

/// What to join with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinChoice {
    /// Use LiveKit's two-connection flow instead of one connection.
    pub two_connections: bool,
    /// Publish the camera.
    pub camera: bool,
    /// Publish the microphone.
    pub microphone: bool,
}

#[cfg(feature = "hydrate")]
#[path = "dom.rs"]
mod dom;
#[cfg(feature = "hydrate")]
#[path = "live.rs"]
mod live;
#[cfg(feature = "hydrate")]
type Inner = live::Live;
/// Nothing to hold on the server.
#[cfg(not(feature = "hydrate"))]
#[derive(Default)]
struct Inner(());

/// The room lives in the browser's one thread (`LocalStorage`). On the server the
/// handle must not use local storage at all: a render may end on another worker
/// thread than it began, and dropping a thread-bound value there panics mid-stream.
#[cfg(feature = "hydrate")]
type InnerStore = StoredValue<Inner, LocalStorage>;
#[cfg(not(feature = "hydrate"))]
type InnerStore = StoredValue<Inner>;

#[cfg(feature = "hydrate")]
fn new_inner() -> InnerStore {
    StoredValue::new_local(Inner::default())
}
#[cfg(not(feature = "hydrate"))]
fn new_inner() -> InnerStore {
    StoredValue::new(Inner::default())
}

/// A call's state as signals, and its actions. `Copy`: hand it to any component.
#[derive(Clone, Copy)]
pub struct CallHandle {
    /// Connection state.
    pub state: RwSignal<CallState>,
    /// Remote tracks.
    pub tiles: RwSignal<Vec<Tile>>,
    /// Our tracks.
    pub local: RwSignal<LocalView>,
    /// The last error, in plain words.
    pub error: RwSignal<Option<String>>,
    /// Which connection flow is in use ("one" or "two").
    pub mode: RwSignal<String>,
    /// The connection quality ("excellent", "good", "poor", "lost"; empty before the
    /// first sample), from the media statistics every two seconds.
    pub quality: RwSignal<String>,
    /// Bytes received so far per remote track sid (from the same samples).
    pub received: RwSignal<Vec<(String, u64)>>,
    /// What the server says of each remote participant beside their tracks: how their
    /// connection is, whether they are speaking.
    pub peers: RwSignal<Vec<PeerState>>,
    /// How media reaches the server ("udp", "tcp", "relay"; empty before it is known).
    pub route: RwSignal<String>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    inner: InnerStore,
}

impl CallHandle {
    /// An idle call.
    pub fn new() -> Self {
        Self {
            state: RwSignal::new(CallState::Idle),
            tiles: RwSignal::new(Vec::new()),
            local: RwSignal::new(LocalView::default()),
            error: RwSignal::new(None),
            mode: RwSignal::new(String::new()),
            quality: RwSignal::new(String::new()),
            received: RwSignal::new(Vec::new()),
            peers: RwSignal::new(Vec::new()),
            route: RwSignal::new(String::new()),
            inner: new_inner(),
        }
    }
}

impl CallHandle {
    /// Joins the call of `meeting_id` with the caller's media token (staff by cookie),
    /// camera and microphone on (published once the grant allows).
    pub fn join_meeting(self, meeting_id: String) {
        leptos::task::spawn_local(async move {
            match crate::api::media_token(meeting_id).await {
                Ok(token) => self.connect(
                    token.livekit_url,
                    token.token,
                    JoinChoice {
                        two_connections: false,
                        camera: true,
                        microphone: true,
                    },
                ),
                Err(error) => self.error.set(Some(error.to_string())),
            }
        });
    }

    /// What the server says of `identity` (nothing yet: the default).
    pub fn peer(self, identity: &str) -> PeerState {
        self.peers.with(|peers| {
            peers
                .iter()
                .find(|p| p.identity == identity)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// Bytes received so far on a remote track.
    pub fn received_bytes(self, track_sid: &str) -> u64 {
        self.received.with(|r| {
            r.iter()
                .find(|(sid, _)| sid == track_sid)
                .map(|(_, bytes)| *bytes)
                .unwrap_or(0)
        })
    }
}

impl Default for CallHandle {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(feature = "hydrate"))]
impl CallHandle {
    /// Joins (browser only).
    pub fn connect(self, _url: String, _token: String, _choice: JoinChoice) {}
    /// Mutes or unmutes the microphone (browser only).
    pub fn toggle_mic(self) {}
    /// Turns the camera off or on (browser only).
    pub fn toggle_camera(self) {}
    /// Starts or stops sharing the screen (browser only).
    pub fn toggle_screen(self) {}
    /// Leaves the call (browser only).
    pub fn leave(self) {}
    /// Drops the signal connection to exercise recovery (browser only).
    pub fn simulate_signal_loss(self) {}
    /// Lists cameras and microphones into `choices` (browser only).
    pub fn load_device_choices(self, _choices: RwSignal<DeviceChoices>) {}
    /// Switches the camera (browser only).
    pub fn switch_camera(self, _device_id: String) {}
    /// Switches the microphone (browser only).
    pub fn switch_microphone(self, _device_id: String) {}
}
