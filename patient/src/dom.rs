//! The page's DOM, in the few operations the driver needs: clone a screen from its
//! `<template>`, find a part, set words, listen, repeat. Nothing here panics: a part
//! the markup lacks comes back as a detached element, so a mistake shows as a missing
//! word on screen, never as a dead page.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, EventTarget, HtmlTemplateElement};

/// The page's document.
pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a page has a document")
}

/// A new element.
pub fn element(tag: &str) -> Element {
    document()
        .create_element(tag)
        .expect("valid tag names create elements")
}

/// The element `[data-part=name]` inside `root` (the first one), or a detached stand-in.
pub fn part(root: &Element, name: &str) -> Element {
    root.query_selector(&format!("[data-part=\"{name}\"]"))
        .ok()
        .flatten()
        .unwrap_or_else(|| element("span"))
}

/// The element `[data-part=name]` anywhere on the page.
pub fn page_part(name: &str) -> Element {
    document()
        .document_element()
        .map(|root| part(&root, name))
        .unwrap_or_else(|| element("span"))
}

/// A copy of the screen `<template data-screen=name>`, appended to `parent`.
pub fn mount(name: &str, parent: &Element) -> Element {
    let copy = document()
        .query_selector(&format!("template[data-screen=\"{name}\"]"))
        .ok()
        .flatten()
        .and_then(|t| t.dyn_into::<HtmlTemplateElement>().ok())
        .and_then(|t| t.content().first_element_child())
        .and_then(|root| root.clone_node_with_deep(true).ok())
        .and_then(|node| node.dyn_into::<Element>().ok())
        .unwrap_or_else(|| element("div"));
    let _ = parent.append_child(&copy);
    copy
}

/// Sets `el`'s text.
pub fn set_text(el: &Element, text: &str) {
    if el.text_content().as_deref() != Some(text) {
        el.set_text_content(Some(text));
    }
}

/// Shows or hides `el` (the `hidden` attribute).
pub fn show(el: &Element, visible: bool) {
    if visible {
        let _ = el.remove_attribute("hidden");
    } else {
        let _ = el.set_attribute("hidden", "");
    }
}

/// Sets an attribute if it changed.
pub fn set_attr(el: &Element, name: &str, value: &str) {
    if el.get_attribute(name).as_deref() != Some(value) {
        let _ = el.set_attribute(name, value);
    }
}

/// An error banner (`role=alert`) with `text`, marked `data-testid=test_id`.
pub fn error_banner(text: &str, test_id: &str) -> Element {
    let banner = element("p");
    banner.set_class_name("banner error");
    let _ = banner.set_attribute("role", "alert");
    let _ = banner.set_attribute("data-testid", test_id);
    banner.set_text_content(Some(text));
    banner
}

/// An event listener, removed when dropped.
pub struct Listener {
    target: EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut(Event)>,
}

/// Calls `handler` on each `event` at `target` until the returned listener is dropped.
pub fn on(
    target: &EventTarget,
    event: &'static str,
    handler: impl FnMut(Event) + 'static,
) -> Listener {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    Listener {
        target: target.clone(),
        event,
        closure,
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

/// A repeating timer, cleared when dropped.
pub struct Every {
    id: i32,
    _closure: Closure<dyn FnMut()>,
}

/// Calls `tick` every `ms` milliseconds until the returned timer is dropped.
pub fn every(ms: i32, tick: impl FnMut() + 'static) -> Every {
    let closure = Closure::<dyn FnMut()>::new(tick);
    let id = web_sys::window()
        .and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                ms,
            )
            .ok()
        })
        .unwrap_or(0);
    Every {
        id,
        _closure: closure,
    }
}

impl Drop for Every {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.id);
        }
    }
}
