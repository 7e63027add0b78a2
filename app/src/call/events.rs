//! The meeting's server-sent events (`/api/v1/meetings/{id}/events`), in the browser:
//! ids and states only, never names or text. The portal follows the meeting it is in
//! (the console re-reads the meeting on each event; arrivals ring while the clinician
//! is elsewhere). On the server this does nothing.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// One event as the page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingEventData {
    /// `participant`, `status`, `device_check`, `message`; `queue` first on each
    /// (re)connection of the stream, after which anything may have changed.
    pub kind: String,
    /// The participant it is about.
    pub participant_id: Option<String>,
    /// Their new state (`waiting`, `admitted`, ...), or the meeting's.
    pub state: Option<String>,
    /// `queue` only: who is waiting now, in arrival order.
    pub waiting: Vec<String>,
}

/// Follows meeting `id`'s events for as long as the current owner lives. The stream
/// opens after the page's `load` event: an `EventSource` opened before it keeps the
/// document loading for as long as the stream lives.
#[cfg(feature = "hydrate")]
pub fn follow_meeting(id: &str, on_event: impl Fn(MeetingEventData) + 'static) {
    if id.is_empty() {
        return;
    }
    let address = format!("/api/v1/meetings/{id}/events");
    let on_event = std::rc::Rc::new(on_event);
    if document().ready_state() == "complete" {
        open(&address, on_event);
        return;
    }
    // The stream belongs to this owner, so it closes when the owner goes.
    let owner = Owner::current();
    let handle = window_event_listener(leptos::ev::load, move |_| {
        let on_event = on_event.clone();
        match &owner {
            Some(owner) => owner.with(|| open(&address, on_event)),
            None => open(&address, on_event),
        }
    });
    on_cleanup(move || handle.remove());
}

#[cfg(feature = "hydrate")]
fn open(address: &str, on_event: std::rc::Rc<dyn Fn(MeetingEventData)>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new(address) else {
        return;
    };
    let on_message = on_event.clone();
    let on_meeting =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(event) = ev.data().as_string().as_deref().and_then(parse) {
                on_message(event);
            }
        });
    let on_queue =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let waiting = ev
                .data()
                .as_string()
                .as_deref()
                .map(parse_queue)
                .unwrap_or_default();
            on_event(MeetingEventData {
                kind: "queue".into(),
                participant_id: None,
                state: None,
                waiting,
            });
        });
    let _ = source.add_event_listener_with_callback("meeting", on_meeting.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("queue", on_queue.as_ref().unchecked_ref());
    // The listeners live as long as the stream; all go with the owner.
    let kept = send_wrapper::SendWrapper::new((source, on_meeting, on_queue));
    on_cleanup(move || kept.0.close());
}

#[cfg(feature = "hydrate")]
fn parse(data: &str) -> Option<MeetingEventData> {
    let value = js_sys::JSON::parse(data).ok()?;
    let field = |key: &str| {
        js_sys::Reflect::get(&value, &key.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    Some(MeetingEventData {
        kind: field("type")?,
        participant_id: field("participant_id"),
        state: field("state").or_else(|| field("status")),
        waiting: Vec::new(),
    })
}

/// The ids in a `queue` snapshot (`[{"participant_id": …, "arrived_at_ms": …}]`).
#[cfg(feature = "hydrate")]
fn parse_queue(data: &str) -> Vec<String> {
    let Ok(value) = js_sys::JSON::parse(data) else {
        return Vec::new();
    };
    js_sys::Array::from(&value)
        .iter()
        .filter_map(|entry| {
            js_sys::Reflect::get(&entry, &"participant_id".into())
                .ok()
                .and_then(|v| v.as_string())
        })
        .collect()
}

/// On the server there is no stream.
#[cfg(not(feature = "hydrate"))]
pub fn follow_meeting(_id: &str, _on_event: impl Fn(MeetingEventData) + 'static) {}
