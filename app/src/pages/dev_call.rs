//! `/dev/call`: the demo call (dev only). Two tabs with the same room call each other
//! on Bedside's Rust/WASM media client, without a meeting; the server mints the token
//! (`/api/v1/dev/call-token`, mounted only in dev). Query parameters prefill the form
//! and can join at once: `?room=demo&name=ann&connections=two&join=1`; `url` and
//! `token` instead connect to any LiveKit-protocol server (a local `server sfu` or
//! LiveKit) with a token minted elsewhere. The streams' counters are shown under the
//! call, which is also what the browser tests read.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::call::stage::CallStage;
use crate::call::{CallHandle, JoinChoice};

/// The demo call page.
#[component]
pub fn DevCallPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |key: &str| query.with_untracked(|q| q.get(key));
    let room = RwSignal::new(param("room").unwrap_or_else(|| "demo".into()));
    let name = RwSignal::new(param("name").unwrap_or_default());
    let two = RwSignal::new(param("connections").as_deref() == Some("two"));
    let publish = RwSignal::new(param("publish").as_deref() != Some("0"));
    // `?granted=0`: join without the right to publish (a grant may come mid-call).
    let granted = param("granted").as_deref() != Some("0");
    let direct = StoredValue::new(param("url").zip(param("token")));
    let call = CallHandle::new();
    let stats = RwSignal::new(String::from("[]"));
    let join = move || {
        let choice = JoinChoice {
            two_connections: two.get_untracked(),
            camera: publish.get_untracked(),
            microphone: publish.get_untracked(),
        };
        match direct.get_value() {
            Some((url, token)) => call.connect(url, token, choice),
            None => join_demo(
                call,
                room.get_untracked(),
                name.get_untracked(),
                granted,
                choice,
            ),
        }
    };
    Effect::new(move |_| {
        if param("join").as_deref() == Some("1") {
            join();
        }
    });
    follow_stats(call, stats);
    view! {
        <Title text="Demo call" />
        <main class="page dev-call">
            <h1>"Demo call"</h1>
            <p class="muted">"Dev only. Open this page in two tabs with the same room name to call yourself on Bedside's Rust/WASM client."</p>
            <form class="card form-row" on:submit=move |ev| { ev.prevent_default(); join(); }>
                <label>"Room" <input name="room" bind:value=room required maxlength="40" /></label>
                <label>"Your name" <input name="name" bind:value=name placeholder="e.g. ann" maxlength="40" /></label>
                <label class="check"><input type="checkbox" name="two" bind:checked=two />" Two peer connections"</label>
                <label class="check"><input type="checkbox" name="publish" bind:checked=publish />" Camera and microphone"</label>
                <button type="submit">"Join"</button>
                <button type="button" on:click=move |_| call.simulate_signal_loss()>"Drop signal connection"</button>
            </form>
            <CallStage call />
            <details>
                <summary>"Stream counters"</summary>
                <pre data-testid="call-stats">{move || stats.get()}</pre>
            </details>
        </main>
    }
}

#[cfg(feature = "hydrate")]
fn join_demo(call: CallHandle, room: String, name: String, granted: bool, choice: JoinChoice) {
    use wasm_bindgen::JsCast;
    leptos::task::spawn_local(async move {
        let name = if name.is_empty() {
            format!("guest-{}", (js_sys::Math::random() * 9000.0) as u32 + 1000)
        } else {
            name
        };
        let address = format!(
            "/api/v1/dev/call-token?room={}&name={}&publish={}",
            js_sys::encode_uri_component(&room),
            js_sys::encode_uri_component(&name),
            u8::from(granted),
        );
        let Some(window) = web_sys::window() else {
            return;
        };
        let fetched = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&address)).await;
        let Ok(response) = fetched.map(|r| r.unchecked_into::<web_sys::Response>()) else {
            call.error
                .set(Some("The dev server did not answer.".into()));
            return;
        };
        let body = match response.json() {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.ok(),
            Err(_) => None,
        };
        let read = |key: &str| {
            body.as_ref()
                .and_then(|b| js_sys::Reflect::get(b, &key.into()).ok())
                .and_then(|v| v.as_string())
        };
        match (response.ok(), read("url"), read("token")) {
            (true, Some(url), Some(token)) => call.connect(url, token, choice),
            _ => call.error.set(Some(
                "Use 1–40 letters, digits, '-' or '_' for the room and your name.".into(),
            )),
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn join_demo(_call: CallHandle, _room: String, _name: String, _granted: bool, _choice: JoinChoice) {
}

/// Samples the call's counters every second while the page is open.
#[cfg(feature = "hydrate")]
fn follow_stats(call: CallHandle, stats: RwSignal<String>) {
    let handle = set_interval_with_handle(
        move || {
            leptos::task::spawn_local(async move {
                stats.set(call.stats_json().await);
            });
        },
        std::time::Duration::from_millis(1000),
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }
}

#[cfg(not(feature = "hydrate"))]
fn follow_stats(_call: CallHandle, _stats: RwSignal<String>) {}
