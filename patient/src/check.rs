//! The device and connection check, before the waiting room: camera preview,
//! microphone level, a test sound, device pickers, how fast the clinic's server answers
//! and how much it carries each way, and the path video takes to the media server (the
//! call, joined hidden). Each failure says what to do in plain words. The captured
//! camera and microphone go to the call on Join, so permission is asked for once.

use std::cell::RefCell;
use std::rc::Rc;

use app::call::CallState;
use app::meetings::{DeviceCheckReport, DeviceStatus, VideoRoute, describe_kbps};
use app::pages::visit::parts;
use bedside_client::audio::{LevelMeter, Tone, play};
use bedside_client::media::{capture_camera, capture_microphone};
use bedside_client::{ClientError, DeviceKind, Route, list_devices};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlMediaElement, HtmlSelectElement, MediaStreamTrack};

use crate::call::Call;
use crate::dom::{Every, Listener, element, every, on, part, set_attr, set_text};
use crate::probe::{Reach, probe_server};

/// What the patient does when a browser blocks the camera and microphone.
const BLOCKED_HELP: &str = "Your browser is blocking the camera and microphone for this page. \
     Click the camera icon (or the padlock) at the left or right of the address bar, choose \
     Allow for camera and microphone, then press Try again. On a phone, allow the camera for \
     your browser in Settings.";

/// The mounted check.
pub struct Check(Rc<Inner>);

struct Inner {
    root: Element,
    call: Call,
    camera: RefCell<Option<MediaStreamTrack>>,
    mic: RefCell<Option<MediaStreamTrack>>,
    /// The browser or the user blocked access.
    denied: RefCell<bool>,
    meter: RefCell<Option<LevelMeter>>,
    reach: RefCell<Option<Result<Reach, ()>>>,
    error: RefCell<Option<Element>>,
    listeners: RefCell<Vec<Listener>>,
    ticker: RefCell<Option<Every>>,
    /// Set once Join handed the tracks to the call.
    handed_over: RefCell<bool>,
}

impl Check {
    /// Starts the check copied into `root`; `on_join` runs when the patient is ready.
    pub fn start(root: Element, call: &Call, on_join: impl Fn() + 'static) -> Self {
        let inner = Rc::new(Inner {
            root,
            call: call.clone(),
            camera: RefCell::default(),
            mic: RefCell::default(),
            denied: RefCell::default(),
            meter: RefCell::default(),
            reach: RefCell::default(),
            error: RefCell::default(),
            listeners: RefCell::default(),
            ticker: RefCell::default(),
            handed_over: RefCell::default(),
        });
        let weak = Rc::downgrade(&inner);
        let meter = part(&inner.root, parts::METER);
        inner.ticker.replace(Some(every(150, move || {
            if let Some(inner) = weak.upgrade() {
                let level = inner.meter.borrow().as_ref().map_or(0, LevelMeter::level);
                set_attr(&meter, "value", &level.to_string());
            }
        })));
        let line = part(&inner.root, parts::VIDEO_PATH);
        call.watch(Rc::new(move |call: &Call| {
            set_text(&line, &video_path(call))
        }));
        inner.listen(parts::CAMERA_PICKER, "change", |inner| {
            inner.capture_chosen()
        });
        inner.listen(parts::MIC_PICKER, "change", |inner| inner.capture_chosen());
        inner.listen(parts::TEST_SOUND, "click", |inner| {
            play(&[Tone {
                frequency: 523.25,
                delay: 0.0,
                length: 0.8,
                volume: 0.2,
            }]);
            set_text(
                &part(&inner.root, parts::SOUND_HINT),
                " Did you hear a tone? If not, turn up your volume.",
            );
        });
        let on_join = Rc::new(on_join);
        inner.listen(parts::JOIN, "click", move |inner| {
            let report = inner.report();
            // The clinician's waiting panel shows it; joining never waits for it.
            spawn_local(async move {
                let _ = crate::http::post::<()>("/api/v1/calls/device-check", &report).await;
            });
            inner.call.prepare(inner.camera.take(), inner.mic.take());
            inner.meter.replace(None);
            inner.handed_over.replace(true);
            on_join();
        });
        inner.clone().capture(None, None);
        let probing = inner.clone();
        spawn_local(async move {
            let reach = probe_server().await;
            set_text(
                &part(&probing.root, parts::CONNECTION),
                &describe_reach(Some(reach)),
            );
            probing.reach.replace(Some(reach));
        });
        Self(inner)
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        self.0.call.unwatch();
        self.0.ticker.replace(None);
        self.0.meter.replace(None);
        if !*self.0.handed_over.borrow() {
            self.0.stop_tracks();
        }
    }
}

impl Inner {
    fn listen(
        self: &Rc<Self>,
        name: &str,
        event: &'static str,
        action: impl Fn(&Rc<Inner>) + 'static,
    ) {
        let weak = Rc::downgrade(self);
        let listener = on(&part(&self.root, name), event, move |_| {
            if let Some(inner) = weak.upgrade() {
                action(&inner);
            }
        });
        self.listeners.borrow_mut().push(listener);
    }

    fn stop_tracks(&self) {
        for track in [self.camera.take(), self.mic.take()].into_iter().flatten() {
            track.stop();
        }
    }

    fn picked(&self, name: &str) -> Option<String> {
        part(&self.root, name)
            .dyn_into::<HtmlSelectElement>()
            .ok()
            .map(|s| s.value())
            .filter(|v| !v.is_empty())
    }

    /// Captures again with the pickers' choices (after a change, or Try again).
    fn capture_chosen(self: &Rc<Self>) {
        let (camera, mic) = (
            self.picked(parts::CAMERA_PICKER),
            self.picked(parts::MIC_PICKER),
        );
        self.clone().capture(camera, mic);
    }

    /// Captures camera and microphone (the chosen devices, or the defaults), shows the
    /// preview, lists the devices and starts the level meter.
    fn capture(self: Rc<Self>, camera_id: Option<String>, mic_id: Option<String>) {
        spawn_local(async move {
            self.stop_tracks();
            self.meter.replace(None);
            let camera = capture_camera(camera_id.as_deref()).await;
            let mic = capture_microphone(mic_id.as_deref()).await;
            let failure = match (&camera, &mic) {
                (Ok(_), Ok(_)) => None,
                (Err(error), _) | (_, Err(error)) => Some(error.clone()),
            };
            self.denied
                .replace(failure == Some(ClientError::PermissionDenied));
            let (camera, mic) = match failure {
                None => (camera.ok(), mic.ok()),
                Some(_) => {
                    for track in [camera.ok(), mic.ok()].into_iter().flatten() {
                        track.stop();
                    }
                    (None, None)
                }
            };
            self.show_error(failure.map(|e| {
                if e == ClientError::PermissionDenied {
                    BLOCKED_HELP.to_owned()
                } else {
                    e.human_message()
                }
            }));
            if let Some(track) = &camera
                && let Ok(video) = part(&self.root, parts::PREVIEW).dyn_into::<HtmlMediaElement>()
            {
                bedside_client::media::show(&video, track);
            }
            self.meter.replace(mic.as_ref().and_then(LevelMeter::new));
            let chosen = |track: &Option<MediaStreamTrack>| {
                track.as_ref().and_then(|t| {
                    js_sys::Reflect::get(&t.get_settings(), &"deviceId".into())
                        .ok()?
                        .as_string()
                })
            };
            let (camera_id, mic_id) = (chosen(&camera), chosen(&mic));
            self.camera.replace(camera);
            self.mic.replace(mic);
            if let Ok(devices) = list_devices().await {
                let fill = |name: &str, kind: DeviceKind, chosen: Option<String>| {
                    let select = part(&self.root, name);
                    select.set_inner_html("");
                    for (n, device) in devices.iter().filter(|d| d.kind == kind).enumerate() {
                        let option = element("option");
                        let _ = option.set_attribute("value", &device.device_id);
                        if chosen.as_deref() == Some(device.device_id.as_str()) {
                            let _ = option.set_attribute("selected", "");
                        }
                        let label = if device.label.is_empty() {
                            format!("Device {}", n + 1)
                        } else {
                            device.label.clone()
                        };
                        option.set_text_content(Some(&label));
                        let _ = select.append_child(&option);
                    }
                };
                fill(parts::CAMERA_PICKER, DeviceKind::Camera, camera_id);
                fill(parts::MIC_PICKER, DeviceKind::Microphone, mic_id);
            }
        });
    }

    /// Shows what went wrong with a Try again button, or clears it.
    fn show_error(self: &Rc<Self>, help: Option<String>) {
        if let Some(old) = self.error.take() {
            old.remove();
        }
        let Some(help) = help else { return };
        let banner = element("div");
        banner.set_class_name("banner error");
        let _ = banner.set_attribute("role", "alert");
        let _ = banner.set_attribute("data-testid", "device-error");
        let text = element("p");
        text.set_text_content(Some(&help));
        let retry = element("button");
        let _ = retry.set_attribute("type", "button");
        retry.set_class_name("button");
        retry.set_text_content(Some("Try again"));
        let _ = banner.append_child(&text);
        let _ = banner.append_child(&retry);
        let weak = Rc::downgrade(self);
        self.listeners
            .borrow_mut()
            .push(on(&retry, "click", move |_| {
                if let Some(inner) = weak.upgrade() {
                    inner.capture_chosen();
                }
            }));
        let preview = part(&self.root, parts::PREVIEW);
        let _ = self.root.insert_before(&banner, Some(&preview));
        self.error.replace(Some(banner));
    }

    /// What the check found, for the clinician (statuses only, never device labels).
    fn report(&self) -> DeviceCheckReport {
        let denied = *self.denied.borrow();
        let status = |ready: bool| match (ready, denied) {
            (true, _) => DeviceStatus::Working,
            (false, true) => DeviceStatus::Blocked,
            (false, false) => DeviceStatus::Failed,
        };
        let reach = (*self.reach.borrow()).and_then(Result::ok);
        DeviceCheckReport {
            camera: status(self.camera.borrow().is_some()),
            microphone: status(self.mic.borrow().is_some()),
            round_trip_ms: reach.map(|r| r.round_trip_ms),
            down_kbps: reach.and_then(|r| r.down_kbps),
            up_kbps: reach.and_then(|r| r.up_kbps),
            route: self.call.route().map(|route| match route {
                Route::DirectUdp => VideoRoute::Udp,
                Route::DirectTcp => VideoRoute::Tcp,
                Route::Relayed => VideoRoute::Relay,
            }),
        }
    }
}

/// The path video takes to the clinic, in plain words.
fn video_path(call: &Call) -> String {
    match (call.state(), call.route()) {
        (CallState::Ended(message), _) => {
            format!("We cannot reach the clinic's video service. {message}")
        }
        (CallState::Connected, Some(Route::DirectUdp)) => {
            "Video connection: direct. Good for video.".into()
        }
        (CallState::Connected, Some(Route::DirectTcp)) => {
            "Video connection: this network blocks the usual \
            video traffic (UDP), so video goes over TCP. It may be less smooth; another network \
            or your phone's mobile data may help."
                .into()
        }
        (CallState::Connected, Some(Route::Relayed)) => "Video connection: this network allows no \
            direct path, so video goes through a relay server. It may be less smooth."
            .into(),
        _ => "Connecting to the clinic's video service…".into(),
    }
}

/// Below these, video will struggle (LiveKit's lowest simulcast layer plus audio, with
/// room to spare).
const SLOW_DOWN_KBPS: u32 = 600;
const SLOW_UP_KBPS: u32 = 300;

/// The connection line, in plain words.
fn describe_reach(reach: Option<Result<Reach, ()>>) -> String {
    let reach = match reach {
        None => return "Checking your connection…".into(),
        Some(Err(())) => {
            return "We cannot reach the clinic. Check your internet connection, or try another network.".into();
        }
        Some(Ok(reach)) => reach,
    };
    let speeds = match (reach.down_kbps, reach.up_kbps) {
        (Some(down), Some(up)) => format!(
            "; about {} down and {} up",
            describe_kbps(down),
            describe_kbps(up)
        ),
        _ => String::new(),
    };
    let slow = reach.down_kbps.is_some_and(|k| k < SLOW_DOWN_KBPS)
        || reach.up_kbps.is_some_and(|k| k < SLOW_UP_KBPS);
    if slow {
        format!(
            "Connection to the clinic: slow ({} ms{speeds}). Video may be choppy: move closer \
             to your Wi-Fi router, or pause other downloads and video.",
            reach.round_trip_ms
        )
    } else {
        format!(
            "Connection to the clinic: good ({} ms{speeds}).",
            reach.round_trip_ms
        )
    }
}
