//! The portal's one call. It lives in the signed-in layout, above the pages, so the
//! clinician can move between the schedule, a chart and the note while the call goes
//! on: on the visit's console it is shown large; anywhere else (or after Minimize) it
//! shrinks to a mini window that can be dragged and remembers where it was put. The mini
//! view's video asks the SFU for a small layer by itself (adaptive stream sees the small
//! element), and "Save bandwidth" pauses the outgoing video. On Chromium, "Float" moves
//! the call into a Document Picture-in-Picture window outside the tab.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::CallHandle;
use super::arrivals::{ArrivalNotice, Arrivals};
use super::events::follow_meeting;
use super::pip::Floating;
use super::stage::CallStage;

/// Where the mini window was put (`localStorage`).
#[cfg(feature = "hydrate")]
const POSITION_KEY: &str = "bedside.call.position";

/// The portal's call and how it is shown.
#[derive(Clone, Copy)]
pub struct PortalCall {
    /// The call.
    pub call: CallHandle,
    /// The meeting it belongs to.
    pub meeting: RwSignal<Option<String>>,
    /// Shrunk by the clinician (on the console too).
    pub minimized: RwSignal<bool>,
    /// The mini window's top-left corner, in CSS pixels (`None`: the corner default).
    pub position: RwSignal<Option<(i32, i32)>>,
    /// Bumped by each event of the meeting (the console re-reads the meeting).
    pub events: RwSignal<u32>,
    /// Who waits, and how arrivals are signalled.
    pub arrivals: Arrivals,
    /// The call in a Document Picture-in-Picture window.
    pub floating: Floating,
}

impl PortalCall {
    /// Joins the call of `meeting_id` (camera and microphone on), unless already in it.
    pub fn join_meeting(self, meeting_id: String) {
        if self.meeting.get_untracked().as_deref() == Some(meeting_id.as_str()) {
            return;
        }
        if self.meeting.get_untracked().is_some() {
            self.call.leave();
        }
        self.meeting.set(Some(meeting_id.clone()));
        let call = self.call;
        call.join_meeting(meeting_id);
    }

    /// Leaves the call (the visit ended).
    pub fn end(self) {
        self.call.leave();
        self.meeting.set(None);
        self.minimized.set(false);
        self.arrivals.clear();
        self.floating.close();
    }
}

/// Creates the portal's call for the layout.
pub fn provide_portal_call() -> PortalCall {
    let portal = PortalCall {
        call: CallHandle::new(),
        meeting: RwSignal::new(None),
        minimized: RwSignal::new(false),
        position: RwSignal::new(None),
        events: RwSignal::new(0),
        arrivals: Arrivals::new(),
        floating: Floating::new(),
    };
    provide_context(portal);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| portal.position.set(stored_position()));
    // The meeting's events for as long as the portal is in it (the effect's cleanup
    // closes the stream when the meeting changes or ends).
    Effect::new(move |_| {
        if let Some(id) = portal.meeting.get() {
            follow_meeting(&id, move |event| {
                portal.arrivals.on_event(&event);
                portal.events.update(|n| *n = n.wrapping_add(1));
            });
        }
    });
    portal
}

/// The portal's call, for pages below the layout.
pub fn use_portal_call() -> Option<PortalCall> {
    use_context::<PortalCall>()
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(feature = "hydrate")]
fn stored_position() -> Option<(i32, i32)> {
    let text = storage()?.get_item(POSITION_KEY).ok().flatten()?;
    let (x, y) = text.split_once(',')?;
    Some((x.parse().ok()?, y.parse().ok()?))
}

/// The call, large on its console and small everywhere else.
#[component]
pub fn CallDock() -> impl IntoView {
    let Some(portal) = use_portal_call() else {
        return ().into_any();
    };
    let location = use_location();
    let on_console = Memo::new(move |_| {
        portal
            .meeting
            .get()
            .is_some_and(|id| location.pathname.get() == format!("/visits/{id}"))
    });
    let floating = portal.floating;
    // Floating in its own window, the call is shown whole (the window is the mini view).
    let mini =
        Memo::new(move |_| !floating.active.get() && (portal.minimized.get() || !on_console.get()));
    let dock = NodeRef::<leptos::html::Aside>::new();
    // Placed through CSSOM (`style:` sets properties, not the attribute), which the
    // page's strict CSP allows; a `style` attribute would be refused.
    let placed = move || {
        if mini.get() {
            portal.position.get()
        } else {
            None
        }
    };
    let left = move || placed().map(|(x, _)| format!("{x}px")).unwrap_or_default();
    let top = move || placed().map(|(_, y)| format!("{y}px")).unwrap_or_default();
    let unset = move || if placed().is_some() { "auto" } else { "" };
    let dragging = StoredValue::new(None::<(i32, i32)>);
    let start_drag = move |ev: leptos::ev::PointerEvent| {
        if !floating.active.get_untracked() {
            dragging.set_value(Some((ev.offset_x(), ev.offset_y())));
        }
    };
    #[cfg(feature = "hydrate")]
    {
        let moving = window_event_listener(leptos::ev::pointermove, move |ev| {
            if let Some((dx, dy)) = dragging.get_value() {
                portal.position.set(Some((
                    (ev.client_x() - dx).max(0),
                    (ev.client_y() - dy).max(0),
                )));
            }
        });
        let released = window_event_listener(leptos::ev::pointerup, move |_| {
            if dragging.get_value().is_some() {
                dragging.set_value(None);
                if let (Some(store), Some((x, y))) = (storage(), portal.position.get_untracked()) {
                    let _ = store.set_item(POSITION_KEY, &format!("{x},{y}"));
                }
            }
        });
        // Keyboard: Alt+M microphone, Alt+V camera, Alt+P minimize or expand.
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if !ev.alt_key() || portal.meeting.get_untracked().is_none() {
                return;
            }
            match ev.code().as_str() {
                "KeyM" => portal.call.toggle_mic(),
                "KeyV" => portal.call.toggle_camera(),
                "KeyP" => portal.minimized.update(|m| *m = !*m),
                _ => return,
            }
            ev.prevent_default();
        });
        on_cleanup(move || {
            moving.remove();
            released.remove();
            keys.remove();
        });
    }
    let call = portal.call;
    let saving = move || !call.local.with(|l| l.camera_on);
    view! {
        <Show when=move || portal.meeting.get().is_some()>
            <aside node_ref=dock class="call-dock" class:mini=mini class:floating=move || floating.active.get() style:left=left style:top=top style:right=unset style:bottom=unset data-testid="call-dock" data-mini=move || mini.get().to_string() aria-label="Video call">
                <div class="call-dock-bar" on:pointerdown=start_drag title="Drag to move">
                    <span class="call-dock-title">"Video visit"</span>
                    {move || (floating.supported.get() && !floating.active.get()).then(|| view! {
                        <button type="button" class="button ghost" data-testid="call-float" title="Keep the call on top of other windows"
                            on:click=move |_| {
                                #[cfg(feature = "hydrate")]
                                if let Some(element) = dock.get_untracked() {
                                    floating.float(element);
                                }
                            }>"Float"</button>
                    })}
                    {move || floating.active.get().then(|| view! {
                        <button type="button" class="button ghost" data-testid="call-unfloat" on:click=move |_| floating.close()>"Back to the tab"</button>
                    })}
                    <Show when=move || mini.get() fallback=move || view! {
                        <button type="button" class="button ghost" data-testid="call-minimize" aria-keyshortcuts="Alt+P" on:click=move |_| portal.minimized.set(true)>"Minimize"</button>
                    }>
                        <button type="button" class="button ghost" data-testid="call-save-bandwidth" aria-pressed=move || saving().to_string() on:click=move |_| call.toggle_camera()>
                            {move || if saving() { "Resume video" } else { "Save bandwidth" }}
                        </button>
                        <a class="button ghost" data-testid="call-expand" href=move || format!("/visits/{}", portal.meeting.get().unwrap_or_default()) on:click=move |_| portal.minimized.set(false)>"Expand"</a>
                    </Show>
                </div>
                <ArrivalNotice arrivals=portal.arrivals href=Signal::derive(move || format!("/visits/{}", portal.meeting.get().unwrap_or_default())) />
                <CallStage call />
            </aside>
        </Show>
    }
    .into_any()
}
