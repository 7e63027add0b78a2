//! The patient's browser entry point. The server renders `/visit` with
//! [`app::patient_shell`], which loads this bundle instead of the portal's; it hydrates
//! [`app::PatientApp`], the visit page without the portal's router, pages or layout.
//!
//! Why a second crate rather than one bundle split at run time: the linker only drops
//! code that nothing reachable names. With the portal's `App` as the root, every page
//! is reachable from the router, so a patient on a phone would download the schedule,
//! the chart and the account page to see a waiting room. Here the root is the visit
//! page, and the compiler proves the rest is not shipped (`scripts/bundle-size`).

/// Hydrates the server-rendered `<body>` of `/visit` with [`app::PatientApp`].
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::PatientApp);
    // A marker for tests and tooling: the page is interactive from here on.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
