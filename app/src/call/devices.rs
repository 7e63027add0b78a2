//! The call's device menu: switch camera or microphone mid-call. The lists are read
//! when the menu opens (a headset plugged in since shows up), and the device in use is
//! preselected. Either is switched in place (`replaceTrack`), so the other side keeps
//! the same track and nothing is renegotiated.

use leptos::prelude::*;

use super::{CallHandle, DeviceChoice, DeviceChoices};

/// Id of the menu's panel, for `aria-controls`.
const PANEL_ID: &str = "call-device-menu";

/// The Devices button and, when open, its panel.
#[component]
pub fn DeviceMenu(call: CallHandle) -> impl IntoView {
    let open = RwSignal::new(false);
    let choices = RwSignal::new(DeviceChoices::default());
    let toggle = move |_| {
        let now = !open.get_untracked();
        open.set(now);
        if now {
            call.load_device_choices(choices);
        }
    };
    let options = |list: Vec<DeviceChoice>, chosen: Option<String>| {
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
        <button type="button" data-testid="call-devices" aria-controls=PANEL_ID aria-expanded=move || open.get().to_string() on:click=toggle>
            "Devices"
        </button>
        <Show when=move || open.get()>
            <div id=PANEL_ID class="call-device-menu" role="group" aria-label="Camera and microphone">
                <label class="field">
                    <span>"Camera"</span>
                    <select data-testid="call-camera-picker" on:change=move |ev| call.switch_camera(event_target_value(&ev))>
                        {move || choices.with(|c| options(c.cameras.clone(), c.camera_id.clone()))}
                    </select>
                </label>
                <label class="field">
                    <span>"Microphone"</span>
                    <select data-testid="call-mic-picker" on:change=move |ev| call.switch_microphone(event_target_value(&ev))>
                        {move || choices.with(|c| options(c.mics.clone(), c.mic_id.clone()))}
                    </select>
                </label>
            </div>
        </Show>
    }
}
