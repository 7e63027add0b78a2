//! Document Picture-in-Picture (Chromium): the call moves, as it is, into a small window
//! of its own that floats above every other window, so the clinician can chart in
//! another app and still see the patient. The same DOM nodes move (video keeps
//! playing, buttons keep working); when the window closes they move back into the
//! portal. Where the browser lacks the API the button is not offered and the in-page
//! mini window is the picture-in-picture.

use leptos::prelude::*;

/// Whether the call can float, and whether it does.
#[derive(Debug, Clone, Copy)]
pub struct Floating {
    /// The browser offers Document Picture-in-Picture.
    pub supported: RwSignal<bool>,
    /// The call is in its own window now.
    pub active: RwSignal<bool>,
}

impl Default for Floating {
    fn default() -> Self {
        Self::new()
    }
}

impl Floating {
    /// Not floating; support is detected in the browser.
    pub fn new() -> Self {
        let floating = Self {
            supported: RwSignal::new(false),
            active: RwSignal::new(false),
        };
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            floating
                .supported
                .set(super::dom::global("documentPictureInPicture").is_some())
        });
        floating
    }

    /// Moves `element` into a picture-in-picture window (call it from a click: the
    /// browser requires one).
    #[cfg(feature = "hydrate")]
    pub fn float(self, element: web_sys::HtmlElement) {
        browser::float(element, self.active);
    }

    /// Closes the window; its `pagehide` moves the call back.
    pub fn close(self) {
        #[cfg(feature = "hydrate")]
        browser::close();
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsValue;
    use wasm_bindgen::closure::Closure;

    use super::super::dom::{call, get, global};

    /// The floating window's size: enough for the remote video and the controls.
    const WIDTH: u32 = 420;
    const HEIGHT: u32 = 360;

    pub fn float(element: web_sys::HtmlElement, active: RwSignal<bool>) {
        let Some(api) = global("documentPictureInPicture") else {
            return;
        };
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"width".into(), &WIDTH.into());
        let _ = js_sys::Reflect::set(&options, &"height".into(), &HEIGHT.into());
        let Some(promise) = call(&api, "requestWindow", &[options.into()]) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let Ok(window) =
                wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise)).await
            else {
                return;
            };
            let document = get(&window, "document");
            // The window starts blank: give it the portal's stylesheet.
            if let Some(link) = call(&document, "createElement", &["link".into()]) {
                let origin = web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .unwrap_or_default();
                let _ = js_sys::Reflect::set(&link, &"rel".into(), &"stylesheet".into());
                let _ = js_sys::Reflect::set(
                    &link,
                    &"href".into(),
                    &format!("{origin}/pkg/bedside.css").into(),
                );
                let _ = call(&get(&document, "head"), "append", &[link]);
            }
            let _ = js_sys::Reflect::set(
                &get(&document, "body"),
                &"className".into(),
                &"floating-call".into(),
            );
            let parent = element.parent_node();
            let next = element.next_sibling();
            let _ = call(
                &get(&document, "body"),
                "append",
                &[JsValue::from(element.clone())],
            );
            active.set(true);
            // The window closed (by us or by the clinician): the call comes home.
            let home = Closure::once_into_js(move || {
                if let Some(parent) = parent {
                    let _ = parent.insert_before(&element, next.as_ref());
                }
                active.set(false);
            });
            let _ = call(&window, "addEventListener", &["pagehide".into(), home]);
        });
    }

    pub fn close() {
        if let Some(api) = global("documentPictureInPicture") {
            let window = get(&api, "window");
            if !window.is_null() && !window.is_undefined() {
                let _ = call(&window, "close", &[]);
            }
        }
    }
}
