//! Adaptive stream: each attached remote video reports how large it is shown, and
//! whether it is shown at all, so the SFU forwards the smallest layer that fills it and
//! nothing for a hidden tile (a picture-in-picture mini view asks for a small layer).
//! A `ResizeObserver` and an `IntersectionObserver` watch the element; the page's
//! visibility counts too; changes settle for 100 ms (LiveKit's debounce) before one
//! `UpdateTrackSettings` goes out. Sizes are CSS pixels × the density LiveKit uses (2 on
//! dense screens, else 1).

use std::cell::Cell;
use std::rc::Rc;

use futures_channel::mpsc::UnboundedSender;
use wasm_bindgen::prelude::*;
use web_sys::{Element, IntersectionObserver, ResizeObserver};

use crate::engine::Job;
use crate::js::Callback;

const DEBOUNCE_MS: i32 = 100;

/// Watches one video element for one track.
pub(crate) struct VideoObserver {
    resize: ResizeObserver,
    intersection: IntersectionObserver,
    _on_resize: Callback<dyn FnMut(JsValue)>,
    _on_intersection: Callback<dyn FnMut(JsValue)>,
    _on_visibility: Callback<dyn FnMut()>,
    _on_settled: Rc<Callback<dyn FnMut()>>,
}

struct Seen {
    width: Cell<f64>,
    height: Cell<f64>,
    intersecting: Cell<bool>,
    scheduled: Cell<bool>,
}

fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

fn density() -> f64 {
    let ratio = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0);
    if ratio > 2.0 { 2.0 } else { 1.0 }
}

impl VideoObserver {
    /// Starts watching `element` for track `sid`; reports go to `jobs`.
    pub(crate) fn watch(
        sid: String,
        element: &Element,
        jobs: UnboundedSender<Job>,
    ) -> Option<Self> {
        let seen = Rc::new(Seen {
            width: Cell::new(0.0),
            height: Cell::new(0.0),
            intersecting: Cell::new(false),
            scheduled: Cell::new(false),
        });
        let settled_seen = seen.clone();
        let on_settled = Rc::new(Callback::new(Closure::<dyn FnMut()>::new(move || {
            let seen = &settled_seen;
            seen.scheduled.set(false);
            let scale = density();
            let width = (seen.width.get() * scale).round() as u32;
            let height = (seen.height.get() * scale).round() as u32;
            let visible = seen.intersecting.get() && !page_hidden() && width > 0 && height > 0;
            let _ = jobs.unbounded_send(Job::VideoShown {
                sid: sid.clone(),
                visible,
                width,
                height,
            });
        })));
        let schedule = {
            let seen = seen.clone();
            let settled = on_settled.clone();
            move || {
                if seen.scheduled.replace(true) {
                    return;
                }
                if let Some(window) = web_sys::window() {
                    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                        settled.function(),
                        DEBOUNCE_MS,
                    );
                }
            }
        };
        let (resize_seen, resize_schedule) = (seen.clone(), schedule.clone());
        let on_resize = Callback::new(Closure::<dyn FnMut(JsValue)>::new(
            move |entries: JsValue| {
                let entries: js_sys::Array = entries.unchecked_into();
                if let Some(entry) = entries.iter().last() {
                    let rect = crate::js::get(&entry, "contentRect");
                    resize_seen
                        .width
                        .set(crate::js::get_f64(&rect, "width").unwrap_or(0.0));
                    resize_seen
                        .height
                        .set(crate::js::get_f64(&rect, "height").unwrap_or(0.0));
                    resize_schedule();
                }
            },
        ));
        let (seen_i, schedule_i) = (seen.clone(), schedule.clone());
        let on_intersection = Callback::new(Closure::<dyn FnMut(JsValue)>::new(
            move |entries: JsValue| {
                let entries: js_sys::Array = entries.unchecked_into();
                if let Some(entry) = entries.iter().last() {
                    seen_i
                        .intersecting
                        .set(crate::js::get(&entry, "isIntersecting").is_truthy());
                    schedule_i();
                }
            },
        ));
        let on_visibility = Callback::new(Closure::<dyn FnMut()>::new(schedule));
        let resize = ResizeObserver::new(on_resize.function()).ok()?;
        let intersection = IntersectionObserver::new(on_intersection.function()).ok()?;
        resize.observe(element);
        intersection.observe(element);
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let _ = document
                .add_event_listener_with_callback("visibilitychange", on_visibility.function());
        }
        Some(Self {
            resize,
            intersection,
            _on_resize: on_resize,
            _on_intersection: on_intersection,
            _on_visibility: on_visibility,
            _on_settled: on_settled,
        })
    }
}

impl Drop for VideoObserver {
    fn drop(&mut self) {
        self.resize.disconnect();
        self.intersection.disconnect();
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let _ = document.remove_event_listener_with_callback(
                "visibilitychange",
                self._on_visibility.function(),
            );
        }
    }
}
