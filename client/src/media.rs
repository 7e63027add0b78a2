//! Capturing camera, microphone and screen, listing devices, and the simulcast layers a
//! camera publishes (LiveKit's presets, so LiveKit's SFU and ours treat them alike).

use bedside_signal::proto;
use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlMediaElement, MediaDeviceInfo, MediaDeviceKind, MediaStream, MediaStreamTrack};

use crate::error::ClientError;
use crate::js::{self, obj};

/// Where a local track comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackSource {
    /// The camera.
    Camera,
    /// The microphone.
    Microphone,
    /// A shared screen, window or tab.
    ScreenShare,
}

impl TrackSource {
    /// The protocol's source value.
    pub(crate) fn wire(self) -> i32 {
        match self {
            Self::Camera => proto::TrackSource::Camera as i32,
            Self::Microphone => proto::TrackSource::Microphone as i32,
            Self::ScreenShare => proto::TrackSource::ScreenShare as i32,
        }
    }

    /// A lower-case name, for marks and the track's name.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Camera => "camera",
            Self::Microphone => "microphone",
            Self::ScreenShare => "screenshare",
        }
    }

    /// Audio or video.
    pub(crate) fn is_audio(self) -> bool {
        self == Self::Microphone
    }
}

/// A camera or microphone the browser offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The id to pass back when choosing it.
    pub device_id: String,
    /// The label (empty until the user granted access once).
    pub label: String,
    /// Camera, microphone or speaker.
    pub kind: DeviceKind,
}

/// What a [`Device`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A camera.
    Camera,
    /// A microphone.
    Microphone,
    /// A speaker or headset output.
    Speaker,
}

fn media_devices() -> Result<web_sys::MediaDevices, ClientError> {
    web_sys::window()
        .ok_or(ClientError::UnsupportedBrowser)?
        .navigator()
        .media_devices()
        .map_err(|_| ClientError::UnsupportedBrowser)
}

/// Shows `track` in `element` and starts it playing: a self view, a preview, a remote
/// tile ([`Room::attach`](crate::Room::attach) calls it).
///
/// Played here rather than left to the `autoplay` attribute, which starts an element
/// once and never again: the browser pauses a media element taken off its document
/// (a re-rendered page), and a paused one stays on its last frame while frames keep
/// arriving; [`js::play`] also resumes it when it is put back. An element built by
/// script has `muted` as an attribute only (the property stays false); a video element
/// carries no sound in Bedside (audio has its own element), so it is muted for real,
/// which autoplay policies always allow. As LiveKit's SDK does, `play()` follows. An
/// element already showing `track` keeps its stream (setting it again would abort the
/// load and blank the picture for a moment).
pub fn show(element: &HtmlMediaElement, track: &MediaStreamTrack) {
    let shown = element
        .src_object()
        .is_some_and(|s| s.get_track_by_id(&track.id()).is_some());
    if !shown && let Ok(stream) = MediaStream::new() {
        stream.add_track(track);
        element.set_src_object(Some(&stream));
    }
    if track.kind() == "video" {
        element.set_muted(true);
    }
    element.set_autoplay(true);
    js::play(element);
}

/// The cameras, microphones and speakers the browser lists.
pub async fn list_devices() -> Result<Vec<Device>, ClientError> {
    let devices = media_devices()?;
    let list = js::call_async(devices.as_ref(), "enumerateDevices", &[])
        .await
        .map_err(|e| ClientError::from_js(&e))?;
    let list: Array = list.unchecked_into();
    Ok(list
        .iter()
        .filter_map(|entry| {
            let info: MediaDeviceInfo = entry.unchecked_into();
            let kind = match info.kind() {
                MediaDeviceKind::Videoinput => DeviceKind::Camera,
                MediaDeviceKind::Audioinput => DeviceKind::Microphone,
                MediaDeviceKind::Audiooutput => DeviceKind::Speaker,
                _ => return None,
            };
            Some(Device {
                device_id: info.device_id(),
                label: info.label(),
                kind,
            })
        })
        .collect())
}

async fn first_track(
    method: &str,
    constraints: js_sys::Object,
    audio: bool,
) -> Result<MediaStreamTrack, ClientError> {
    let devices = media_devices()?;
    let stream = js::call_async(devices.as_ref(), method, &[constraints.into()])
        .await
        .map_err(|e| ClientError::from_capture(&e))?;
    let stream: MediaStream = stream.unchecked_into();
    let tracks = if audio {
        stream.get_audio_tracks()
    } else {
        stream.get_video_tracks()
    };
    tracks
        .get(0)
        .dyn_into::<MediaStreamTrack>()
        .map_err(|_| ClientError::NoDevice)
}

fn device_constraint(device_id: Option<&str>, rest: &[(&str, JsValue)]) -> js_sys::Object {
    let constraint = obj(rest);
    if let Some(id) = device_id.filter(|id| !id.is_empty()) {
        js::set(&constraint, "deviceId", obj(&[("exact", id.into())]));
    }
    constraint
}

/// Captures a camera at up to 1280×720, 30 fps (LiveKit's default capture).
pub async fn capture_camera(device_id: Option<&str>) -> Result<MediaStreamTrack, ClientError> {
    let video = device_constraint(
        device_id,
        &[
            ("width", obj(&[("ideal", 1280.into())]).into()),
            ("height", obj(&[("ideal", 720.into())]).into()),
            ("frameRate", obj(&[("ideal", 30.into())]).into()),
        ],
    );
    let constraints = obj(&[("video", video.into()), ("audio", false.into())]);
    first_track("getUserMedia", constraints, false).await
}

/// Captures a microphone with echo cancellation, noise suppression and auto gain.
pub async fn capture_microphone(device_id: Option<&str>) -> Result<MediaStreamTrack, ClientError> {
    let audio = device_constraint(
        device_id,
        &[
            ("echoCancellation", true.into()),
            ("noiseSuppression", true.into()),
            ("autoGainControl", true.into()),
        ],
    );
    let constraints = obj(&[("audio", audio.into()), ("video", false.into())]);
    first_track("getUserMedia", constraints, true).await
}

/// Asks the user for a screen, window or tab to share.
pub async fn capture_screen() -> Result<MediaStreamTrack, ClientError> {
    let constraints = obj(&[
        ("video", obj(&[("frameRate", 15.into())]).into()),
        ("audio", false.into()),
    ]);
    first_track("getDisplayMedia", constraints, false).await
}

/// The size a video track is captured at.
pub(crate) fn track_size(track: &MediaStreamTrack) -> (u32, u32) {
    let settings = js::call(track, "getSettings", &[]).unwrap_or(JsValue::UNDEFINED);
    let width = js::get_f64(&settings, "width").unwrap_or(0.0) as u32;
    let height = js::get_f64(&settings, "height").unwrap_or(0.0) as u32;
    (width, height)
}

/// One simulcast encoding of a published video.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding {
    /// `q`, `h` or `f`.
    pub rid: &'static str,
    /// Downscale factor from the capture size.
    pub scale_down_by: f64,
    /// Bits per second.
    pub max_bitrate: u32,
    /// Frames per second.
    pub max_framerate: u32,
}

impl Encoding {
    /// As an `RTCRtpEncodingParameters` dictionary.
    pub(crate) fn to_js(&self) -> js_sys::Object {
        obj(&[
            ("rid", self.rid.into()),
            ("scaleResolutionDownBy", self.scale_down_by.into()),
            ("maxBitrate", self.max_bitrate.into()),
            ("maxFramerate", self.max_framerate.into()),
            ("active", true.into()),
        ])
    }

    /// The layer quality this rid stands for (LiveKit's mapping).
    pub(crate) fn quality(rid: &str) -> proto::VideoQuality {
        match rid {
            "q" => proto::VideoQuality::Low,
            "h" => proto::VideoQuality::Medium,
            _ => proto::VideoQuality::High,
        }
    }
}

/// The camera layers for a capture of `width`×`height`, as LiveKit's SDK chooses them:
/// three layers from a long side of 960 px, two from 480 px, otherwise one. Screen
/// shares publish a single layer.
pub fn simulcast_layers(width: u32, height: u32) -> Vec<Encoding> {
    let long_side = width.max(height);
    if long_side >= 960 {
        vec![
            Encoding {
                rid: "q",
                scale_down_by: 4.0,
                max_bitrate: 160_000,
                max_framerate: 20,
            },
            Encoding {
                rid: "h",
                scale_down_by: 2.0,
                max_bitrate: 450_000,
                max_framerate: 20,
            },
            Encoding {
                rid: "f",
                scale_down_by: 1.0,
                max_bitrate: 1_700_000,
                max_framerate: 30,
            },
        ]
    } else if long_side >= 480 {
        vec![
            Encoding {
                rid: "q",
                scale_down_by: 2.0,
                max_bitrate: 160_000,
                max_framerate: 20,
            },
            Encoding {
                rid: "h",
                scale_down_by: 1.0,
                max_bitrate: 450_000,
                max_framerate: 25,
            },
        ]
    } else {
        Vec::new()
    }
}

/// The `VideoLayer`s announced in `AddTrackRequest` for these encodings.
pub(crate) fn announced_layers(
    width: u32,
    height: u32,
    encodings: &[Encoding],
) -> Vec<proto::VideoLayer> {
    if encodings.is_empty() {
        return vec![proto::VideoLayer {
            quality: proto::VideoQuality::High as i32,
            width,
            height,
            ..Default::default()
        }];
    }
    encodings
        .iter()
        .map(|e| proto::VideoLayer {
            quality: Encoding::quality(e.rid) as i32,
            width: (width as f64 / e.scale_down_by) as u32,
            height: (height as f64 / e.scale_down_by) as u32,
            bitrate: e.max_bitrate,
            rid: e.rid.into(),
            ..Default::default()
        })
        .collect()
}
