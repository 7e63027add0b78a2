//! The patient's device and connection check, before the waiting room: camera preview,
//! microphone level, a test sound, device pickers, and whether the clinic's server
//! answers. Each failure says what to do in plain words. The captured camera and
//! microphone are kept and sent once admitted, so permission is asked for once.

use leptos::html;
use leptos::prelude::*;

use super::CallHandle;
use crate::meetings::{DeviceCheckReport, DeviceStatus};

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
    let connection = RwSignal::new(None::<Result<u32, ()>>);
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
                {move || match connection.get() {
                    None => "Checking your connection…".to_owned(),
                    Some(Ok(ms)) => format!("Connection to the clinic: good ({ms} ms)."),
                    Some(Err(())) => "We cannot reach the clinic. Check your internet connection, or try another network.".to_owned(),
                }}
            </p>
            <button type="button" class="button primary wide" data-testid="join-waiting" on:click=move |_| {
                let report = call.preview.with_untracked(|p| report(p, connection.get_untracked()));
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

/// What the check found, for the clinician (statuses only, never device labels).
fn report(preview: &super::Preview, connection: Option<Result<u32, ()>>) -> DeviceCheckReport {
    let status = |ready: bool| match (ready, preview.denied) {
        (true, _) => DeviceStatus::Working,
        (false, true) => DeviceStatus::Blocked,
        (false, false) => DeviceStatus::Failed,
    };
    DeviceCheckReport {
        camera: status(preview.camera_ready),
        microphone: status(preview.mic_ready),
        round_trip_ms: connection.and_then(Result::ok),
    }
}

/// The round trip to the server, in ms.
#[cfg(feature = "hydrate")]
async fn probe_server() -> Result<u32, ()> {
    let window = web_sys::window().ok_or(())?;
    let performance = window.performance().ok_or(())?;
    let started = performance.now();
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str("/health"))
        .await
        .map_err(|_| ())?;
    let response: web_sys::Response = wasm_bindgen::JsCast::unchecked_into(response);
    if !response.ok() {
        return Err(());
    }
    Ok((performance.now() - started).round() as u32)
}
