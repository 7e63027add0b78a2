//! The device check's browser half: capture a preview (kept and published later, so
//! the patient is asked for permission once and the devices they chose are the ones
//! sent), list devices, measure the microphone's level, and play a test sound.

use bedside_client::media::{capture_camera, capture_microphone};
use bedside_client::{DeviceKind, list_devices};
use js_sys::{Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use super::dom::{audio_context, call, get, now, tone};
use super::{CallHandle, DeviceOption};

/// The live audio graph of the level meter.
pub(super) struct Meter {
    context: JsValue,
    analyser: JsValue,
}

impl Meter {
    fn new(track: &web_sys::MediaStreamTrack) -> Option<Self> {
        let context = audio_context()?;
        let stream = web_sys::MediaStream::new().ok()?;
        stream.add_track(track);
        let source = call(&context, "createMediaStreamSource", &[stream.into()])?;
        let analyser = call(&context, "createAnalyser", &[])?;
        Reflect::set(&analyser, &"fftSize".into(), &512.into()).ok()?;
        call(&source, "connect", std::slice::from_ref(&analyser))?;
        Some(Self { context, analyser })
    }

    /// 0–100: the loudness of the last few milliseconds.
    fn level(&self) -> u8 {
        let samples = Uint8Array::new_with_length(512);
        let _ = call(
            &self.analyser,
            "getByteTimeDomainData",
            &[samples.clone().into()],
        );
        let data = samples.to_vec();
        let power: f64 = data
            .iter()
            .map(|&s| {
                let centred = (f64::from(s) - 128.0) / 128.0;
                centred * centred
            })
            .sum::<f64>()
            / data.len().max(1) as f64;
        (power.sqrt() * 300.0).min(100.0) as u8
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let _ = call(&self.context, "close", &[]);
    }
}

impl CallHandle {
    /// Captures camera and microphone for the device check (the chosen devices, or
    /// the defaults), lists the devices, and starts the level meter.
    pub fn start_preview(self, camera_id: Option<String>, mic_id: Option<String>) {
        spawn_local(async move {
            let mut view = self.preview.get_untracked();
            view.error = None;
            let camera = capture_camera(camera_id.as_deref()).await;
            let mic = capture_microphone(mic_id.as_deref()).await;
            let (camera, mic) = match (camera, mic) {
                (Ok(camera), Ok(mic)) => (Some(camera), Some(mic)),
                (Err(error), _) | (_, Err(error)) => {
                    view.error = Some(error.human_message());
                    view.denied = error == bedside_client::ClientError::PermissionDenied;
                    (None, None)
                }
            };
            let meter = mic.as_ref().and_then(Meter::new);
            self.inner.update_value(|i| {
                for old in [i.prepared_camera.take(), i.prepared_mic.take()]
                    .into_iter()
                    .flatten()
                {
                    old.stop();
                }
                i.prepared_camera = camera.clone();
                i.prepared_mic = mic.clone();
                i.meter = meter;
            });
            view.camera_ready = camera.is_some();
            view.mic_ready = mic.is_some();
            if let Ok(devices) = list_devices().await {
                let pick = |kind: DeviceKind| {
                    devices
                        .iter()
                        .filter(|d| d.kind == kind)
                        .map(|d| DeviceOption {
                            id: d.device_id.clone(),
                            label: d.label.clone(),
                        })
                        .collect::<Vec<_>>()
                };
                view.cameras = pick(DeviceKind::Camera);
                view.mics = pick(DeviceKind::Microphone);
            }
            view.camera_id = camera.as_ref().and_then(|t| {
                get(&call(t, "getSettings", &[]).unwrap_or_default(), "deviceId").as_string()
            });
            view.mic_id = mic.as_ref().and_then(|t| {
                get(&call(t, "getSettings", &[]).unwrap_or_default(), "deviceId").as_string()
            });
            self.preview.set(view);
        });
    }

    /// The microphone's level now (0–100), for the meter.
    pub fn mic_level(self) -> u8 {
        self.inner
            .with_value(|i| i.meter.as_ref().map(Meter::level).unwrap_or(0))
    }

    /// Shows the previewed camera in `element`.
    pub fn attach_preview(self, element: &web_sys::HtmlMediaElement) {
        let Some(track) = self.inner.with_value(|i| i.prepared_camera.clone()) else {
            return;
        };
        if let Ok(stream) = web_sys::MediaStream::new() {
            stream.add_track(&track);
            element.set_src_object(Some(&stream));
        }
    }

    /// A short tone on the speakers.
    pub fn play_test_sound(self) {
        let Some(context) = audio_context() else {
            return;
        };
        tone(&context, 523.25, now(&context), 0.8, 0.2);
        self.preview.update(|p| p.sound_played = true);
    }
}
