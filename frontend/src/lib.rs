//! Browser entry point. scripts/build-site (or cargo-leptos) builds this crate to wasm;
//! the server-rendered page loads it and calls [`hydrate`], which attaches reactivity to
//! the existing DOM.

/// Hydrates the server-rendered `<body>` with the portal's [`app::App`].
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for tests and tooling: the page is interactive from here on.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
