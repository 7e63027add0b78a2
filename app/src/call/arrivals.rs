//! Patients arriving in the waiting room while the clinician looks elsewhere: the
//! portal follows its meeting's events, and each arrival is announced in a live region
//! ("A patient is in the waiting room") with a link to admit them. When the tab is in
//! the background it also knocks (two soft taps, made with WebAudio: nothing to
//! download) and, if the clinician allowed it, shows a browser notification.
//!
//! The notification says only that *a patient* is waiting: it can show on a lock screen
//! or a shared monitor, so it carries no name (the portal, once opened, shows who).

use leptos::prelude::*;

use super::events::MeetingEventData;

/// The words of an arrival, announced and shown.
pub const ARRIVAL_TEXT: &str = "A patient is in the waiting room.";

/// Who waits now, from the meeting's events, and how arrivals are signalled.
#[derive(Debug, Clone, Copy)]
pub struct Arrivals {
    /// Participant ids waiting now, in arrival order.
    pub waiting: RwSignal<Vec<String>>,
    /// Arrivals signalled since the page opened (each one knocked or announced).
    pub signalled: RwSignal<u32>,
    /// The browser's notification permission: `default`, `granted`, `denied`, or
    /// `unsupported`.
    pub permission: RwSignal<String>,
}

impl Default for Arrivals {
    fn default() -> Self {
        Self::new()
    }
}

impl Arrivals {
    /// Nobody waiting yet.
    pub fn new() -> Self {
        let arrivals = Self {
            waiting: RwSignal::new(Vec::new()),
            signalled: RwSignal::new(0),
            permission: RwSignal::new("default".into()),
        };
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| arrivals.permission.set(browser::permission()));
        arrivals
    }

    /// Follows one meeting event. A `queue` snapshot (the stream's first event) is who
    /// already waits: shown, not knocked for. A participant who starts waiting is an
    /// arrival; any other state takes them out of the line.
    pub fn on_event(self, event: &MeetingEventData) {
        match (event.kind.as_str(), &event.participant_id) {
            ("queue", _) => self.waiting.set(event.waiting.clone()),
            ("participant", Some(id)) if event.state.as_deref() == Some("waiting") => {
                if self.waiting.with_untracked(|w| w.contains(id)) {
                    return;
                }
                self.waiting.update(|w| w.push(id.clone()));
                self.signalled.update(|n| *n += 1);
                #[cfg(feature = "hydrate")]
                if browser::in_background() {
                    browser::knock();
                    if self.permission.get_untracked() == "granted" {
                        browser::notify();
                    }
                }
            }
            ("participant", Some(id)) => self.waiting.update(|w| w.retain(|w| w != id)),
            _ => {}
        }
    }

    /// The meeting is over (or left): nobody waits.
    pub fn clear(self) {
        self.waiting.set(Vec::new());
    }

    /// Asks the browser to allow notifications (call it from a click).
    pub fn ask_permission(self) {
        #[cfg(feature = "hydrate")]
        browser::request_permission(self.permission);
    }
}

/// The arrival notice: a live region that announces arrivals, with a link to the
/// waiting room when someone waits.
#[component]
pub fn ArrivalNotice(arrivals: Arrivals, #[prop(into)] href: Signal<String>) -> impl IntoView {
    let waiting = move || arrivals.waiting.with(|w| !w.is_empty());
    view! {
        <div class="arrival-notice" role="status" aria-live="polite" data-testid="arrival-notice"
            data-signalled=move || arrivals.signalled.get().to_string()>
            <Show when=waiting>
                <span>{ARRIVAL_TEXT}</span>
                " "
                <a href=move || href.get() data-testid="arrival-open">"Open the waiting room"</a>
            </Show>
        </div>
    }
}

/// "Alert me when patients arrive": asks for notification permission, or says why
/// alerts cannot show.
#[component]
pub fn AlertsToggle(arrivals: Arrivals) -> impl IntoView {
    move || {
        match arrivals.permission.get().as_str() {
        "granted" => view! {
            <p class="muted" data-testid="alerts-state">"Arrival alerts are on: you'll hear a knock and see a notification when a patient arrives while Bedside is in the background."</p>
        }.into_any(),
        "denied" => view! {
            <p class="muted" data-testid="alerts-state">"Notifications are blocked for Bedside in this browser; you'll still hear a knock when a patient arrives."</p>
        }.into_any(),
        "unsupported" => ().into_any(),
        _ => view! {
            <button type="button" class="button ghost" data-testid="alerts-enable" on:click=move |_| arrivals.ask_permission()>
                "Alert me when the patient arrives"
            </button>
        }.into_any(),
    }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsValue;

    use bedside_client::audio::{Tone, play};

    use super::super::dom::{call, construct, get, global};

    /// The tab is hidden or another window has the focus.
    pub fn in_background() -> bool {
        let document = document();
        document.hidden() || !document.has_focus().unwrap_or(true)
    }

    /// Two soft taps, low and short: audible, not alarming.
    pub fn knock() {
        let tap = |delay| Tone {
            frequency: 196.0,
            delay,
            length: 0.12,
            volume: 0.35,
        };
        play(&[tap(0.05), tap(0.27)]);
    }

    /// A notification that brings the portal to the front when clicked.
    pub fn notify() {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(
            &options,
            &"body".into(),
            &"Open Bedside to admit them.".into(),
        );
        let _ = js_sys::Reflect::set(&options, &"tag".into(), &"bedside-arrival".into());
        let Some(notification) = construct(
            "Notification",
            &[super::ARRIVAL_TEXT.into(), options.into()],
        ) else {
            return;
        };
        let focus = wasm_bindgen::closure::Closure::once_into_js(|| {
            if let Some(window) = web_sys::window() {
                let _ = window.focus();
            }
        });
        let _ = js_sys::Reflect::set(&notification, &"onclick".into(), &focus);
    }

    /// `Notification.permission`, or `unsupported`.
    pub fn permission() -> String {
        global("Notification")
            .and_then(|n| get(&n, "permission").as_string())
            .unwrap_or_else(|| "unsupported".into())
    }

    /// `Notification.requestPermission()`, then the answer into `permission`.
    pub fn request_permission(permission: RwSignal<String>) {
        let Some(promise) = global("Notification")
            .and_then(|n| call(&n, "requestPermission", &[]))
            .map(js_sys::Promise::from)
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            let answer: Result<JsValue, JsValue> =
                wasm_bindgen_futures::JsFuture::from(promise).await;
            permission.set(
                answer
                    .ok()
                    .and_then(|a| a.as_string())
                    .unwrap_or_else(|| "denied".into()),
            );
        });
    }
}
