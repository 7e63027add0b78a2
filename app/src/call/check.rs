//! The patient's device and connection check, before the waiting room: camera preview,
//! microphone level, a test sound, device pickers, how fast the clinic's server
//! answers and how much it carries each way, and the path video takes to the media
//! server. Each failure says what to do in plain words. The captured camera and
//! microphone are kept and sent once admitted, so permission is asked for once.

use leptos::html;
use leptos::prelude::*;

use super::CallHandle;
use crate::meetings::{DeviceCheckReport, DeviceStatus, VideoRoute, describe_kbps};

/// What the patient does when a browser blocks the camera and microphone.
const BLOCKED_HELP: &str = "Your browser is blocking the camera and microphone for this page. \
     Click the camera icon (or the padlock) at the left or right of the address bar, choose \
     Allow for camera and microphone, then press Try again. On a phone, allow the camera for \
     your browser in Settings.";

/// The check; `on_join` runs when the patient is ready.
#[component]
pub fn DeviceCheck(call: CallHandle, #[prop(into)] on_join: Callback<()>) -> impl IntoView {
    let video = NodeRef::<html::Video>::new();
    let level = RwSignal::new(0u8);
    let connection = RwSignal::new(None::<Result<Reach, ()>>);
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| call.start_preview(None, None));
        Effect::new(move |_| {
            if call.preview.with(|p| p.camera_ready)
                && let Some(video) = video.get()
            {
                call.attach_preview(&video.into());
            }
        });
        if let Ok(handle) = set_interval_with_handle(
            move || level.set(call.mic_level()),
            std::time::Duration::from_millis(150),
        ) {
            on_cleanup(move || handle.clear());
        }
        leptos::task::spawn_local(async move { connection.set(Some(probe_server().await)) });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (video, level, connection);
    let retry = move |_| {
        let (camera, mic) = call
            .preview
            .with_untracked(|p| (p.camera_id.clone(), p.mic_id.clone()));
        call.start_preview(camera, mic);
    };
    let choose_camera = move |ev: leptos::ev::Event| {
        let mic = call.preview.with_untracked(|p| p.mic_id.clone());
        call.start_preview(Some(event_target_value(&ev)), mic);
    };
    let choose_mic = move |ev: leptos::ev::Event| {
        let camera = call.preview.with_untracked(|p| p.camera_id.clone());
        call.start_preview(camera, Some(event_target_value(&ev)));
    };
    let error = move || {
        call.preview.with(|p| {
            p.error.clone().map(|message| {
                let help = if p.denied {
                    BLOCKED_HELP.to_owned()
                } else {
                    message
                };
                view! {
                    <div class="banner error" role="alert" data-testid="device-error">
                        <p>{help}</p>
                        <button type="button" class="button" on:click=retry>"Try again"</button>
                    </div>
                }
            })
        })
    };
    let options = |list: Vec<super::DeviceOption>, chosen: Option<String>| {
        list.into_iter()
            .enumerate()
            .map(|(n, d)| {
                let label = if d.label.is_empty() {
                    format!("Device {}", n + 1)
                } else {
                    d.label
                };
                let selected = chosen.as_deref() == Some(d.id.as_str());
                view! { <option value=d.id selected=selected>{label}</option> }
            })
            .collect_view()
    };
    view! {
        <section class="device-check" data-testid="device-check" aria-labelledby="device-check-title">
            <h2 id="device-check-title">"Check your camera and sound"</h2>
            {error}
            <video node_ref=video class="device-preview" data-testid="device-preview" autoplay playsinline muted aria-label="Your camera preview"></video>
            <label class="field">
                <span>"Microphone level (speak to test)"</span>
                <meter data-testid="mic-level" min="0" max="100" low="5" optimum="50" value=move || level.get().to_string()></meter>
            </label>
            <div class="device-pickers">
                <label class="field">
                    <span>"Camera"</span>
                    <select data-testid="camera-picker" on:change=choose_camera>
                        {move || call.preview.with(|p| options(p.cameras.clone(), p.camera_id.clone()))}
                    </select>
                </label>
                <label class="field">
                    <span>"Microphone"</span>
                    <select data-testid="mic-picker" on:change=choose_mic>
                        {move || call.preview.with(|p| options(p.mics.clone(), p.mic_id.clone()))}
                    </select>
                </label>
            </div>
            <p>
                <button type="button" class="button ghost" on:click=move |_| call.play_test_sound()>"Play a test sound"</button>
                {move || call.preview.with(|p| p.sound_played).then_some(" Did you hear a tone? If not, turn up your volume.")}
            </p>
            <p data-testid="check-connection" role="status">
                {move || describe_reach(connection.get())}
            </p>
            <p data-testid="check-video" role="status">{move || video_path(call)}</p>
            <button type="button" class="button primary wide" data-testid="join-waiting" on:click=move |_| {
                let route = call.route.get_untracked();
                let report = call.preview.with_untracked(|p| report(p, connection.get_untracked(), &route));
                // The clinician's waiting panel shows it; joining never waits for it.
                leptos::task::spawn_local(async move {
                    let _ = crate::api::report_device_check(report).await;
                });
                on_join.run(())
            }>
                "Join the waiting room"
            </button>
        </section>
    }
}

/// The path video takes to the clinic, in plain words (from the connection the check
/// made to the media server).
fn video_path(call: CallHandle) -> String {
    match (call.state.get(), call.route.get().as_str()) {
        (super::CallState::Ended(message), _) => {
            format!("We cannot reach the clinic's video service. {message}")
        }
        (super::CallState::Connected, "udp") => "Video connection: direct. Good for video.".into(),
        (super::CallState::Connected, "tcp") => "Video connection: this network blocks the usual \
            video traffic (UDP), so video goes over TCP. It may be less smooth; another network \
            or your phone's mobile data may help."
            .into(),
        (super::CallState::Connected, "relay") => "Video connection: this network allows no \
            direct path, so video goes through a relay server. It may be less smooth."
            .into(),
        _ => "Connecting to the clinic's video service…".into(),
    }
}

/// What the check found, for the clinician (statuses only, never device labels).
fn report(
    preview: &super::Preview,
    connection: Option<Result<Reach, ()>>,
    route: &str,
) -> DeviceCheckReport {
    let status = |ready: bool| match (ready, preview.denied) {
        (true, _) => DeviceStatus::Working,
        (false, true) => DeviceStatus::Blocked,
        (false, false) => DeviceStatus::Failed,
    };
    let reach = connection.and_then(Result::ok);
    DeviceCheckReport {
        camera: status(preview.camera_ready),
        microphone: status(preview.mic_ready),
        round_trip_ms: reach.map(|r| r.round_trip_ms),
        down_kbps: reach.and_then(|r| r.down_kbps),
        up_kbps: reach.and_then(|r| r.up_kbps),
        route: VideoRoute::parse(route),
    }
}

/// What the check measured of the way to the clinic's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reach {
    round_trip_ms: u32,
    down_kbps: Option<u32>,
    up_kbps: Option<u32>,
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

/// The round trip to the server, then a throughput sample each way
/// (`/api/v1/calls/speed-test`). A failed sample leaves its figure out.
#[cfg(feature = "hydrate")]
async fn probe_server() -> Result<Reach, ()> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or(())?;
    let performance = window.performance().ok_or(())?;
    let started = performance.now();
    let response = JsFuture::from(window.fetch_with_str("/health"))
        .await
        .map_err(|_| ())?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(());
    }
    let round_trip_ms = (performance.now() - started).round() as u32;
    let kbps = |bytes: f64, since: f64| {
        let ms = (performance.now() - since).max(1.0);
        Some((bytes * 8.0 / ms).round() as u32)
    };
    let down_kbps = async {
        let started = performance.now();
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(SPEED_TEST))
            .await
            .ok()?
            .unchecked_into();
        if !response.ok() {
            return None;
        }
        let body = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
        let bytes = js_sys::ArrayBuffer::from(body).byte_length();
        kbps(f64::from(bytes), started)
    }
    .await;
    let up_kbps = async {
        let body = js_sys::Uint8Array::new_with_length(UPLOAD_BYTES);
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        let started = performance.now();
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(SPEED_TEST, &init))
                .await
                .ok()?
                .unchecked_into();
        if !response.ok() {
            return None;
        }
        kbps(f64::from(UPLOAD_BYTES), started)
    }
    .await;
    Ok(Reach {
        round_trip_ms,
        down_kbps,
        up_kbps,
    })
}

/// The throughput sample's address.
#[cfg(feature = "hydrate")]
const SPEED_TEST: &str = "/api/v1/calls/speed-test";
/// What the upload half sends (the server takes up to 256 KiB).
#[cfg(feature = "hydrate")]
const UPLOAD_BYTES: u32 = 128 * 1024;
