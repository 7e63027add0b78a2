//! The patient's browser entry point: a small driver for the server-rendered `/visit`
//! page (see `app::pages::visit` for the markup and why it is not a Leptos hydration).
//! It reads the link, runs the visit's screens, the device check, the waiting room's
//! heartbeat, the call (on [`bedside_client`]) and the chat, all against Bedside's
//! REST API.
//!
//! A second crate rather than a feature of the portal's bundle: the linker only drops
//! code nothing reachable names, so the patient's download holds this driver, the media
//! client and serde, and nothing of the portal (`scripts/bundle-size` weighs it).

mod call;
mod chat;
mod check;
mod dom;
mod http;
mod probe;
mod stage;
mod visit;
mod wire;

/// Runs the visit page. The name is the one Leptos's hydration script calls, so the
/// page's `<head>` is the portal's, with this bundle's name.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(visit::run());
    // A marker for tests and tooling: the page is interactive from here on.
    if let Some(body) = dom::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
