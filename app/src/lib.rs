//! Bedside's portal: the Leptos application rendered by the server and hydrated in the
//! browser.
//!
//! Layout:
//! - [`types`]: wire types shared by the portal and the REST API.
//! - [`error`]: [`error::AppError`], the typed error every server function returns.
//! - [`api`]: server functions (thin adapters over [`ports`]).
//! - [`ports`] (`ssr` only): the trait the server implements for the portal.
//! - [`pages`]: one module per page; [`layout`]: the signed-in frame (header, nav).

pub mod api;
pub mod call;
pub mod error;
pub mod layout;
pub mod meetings;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    document(options, App)
}

/// The name of the patient's bundle in `/pkg` (`bedside-patient.js` and `.wasm`),
/// built from the `patient` crate by `scripts/build-site`.
pub const PATIENT_BUNDLE: &str = "bedside-patient";

/// The document for the patient's one-tap link `/visit`: [`PatientApp`], loading the
/// patient's bundle ([`PATIENT_BUNDLE`]) instead of the portal's.
pub fn patient_shell(mut options: LeptosOptions) -> impl IntoView {
    options.output_name = PATIENT_BUNDLE.into();
    document(options, PatientApp)
}

/// The patient's pages: the visit page alone, with no router. What a patient never
/// needs (the portal's pages, layout and router) is then not in their download.
#[component]
pub fn PatientApp() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/bedside.css" />
        <Title formatter=|page: String| format!("{page} · Bedside") />
        <pages::visit::VisitPage />
    }
}

/// `<html>` around a root component, loading the bundle `options.output_name`.
fn document<V: IntoView + 'static>(options: LeptosOptions, root: fn() -> V) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>{root()}</body>
        </html>
    }
}

/// The portal: routes and shared context.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/bedside.css" />
        <Title formatter=|page: String| format!("{page} · Bedside") />
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/login") view=pages::login::LoginPage />
                <Route path=path!("/invitation") view=pages::invitation::InvitationPage />
                <Route path=path!("/dev/call") view=pages::dev_call::DevCallPage />
                <ParentRoute path=path!("") view=layout::PortalLayout>
                    <Route path=path!("") view=pages::schedule::SchedulePage />
                    <Route path=path!("patients") view=pages::patients::PatientsPage />
                    <Route path=path!("account") view=pages::account::AccountPage />
                    <Route path=path!("visits/:id") view=pages::visit_console::VisitConsolePage />
                    <Route path=path!("appointments/new") view=pages::appointment::NewAppointmentPage />
                    <Route path=path!("appointments/:id") view=pages::appointment::EditAppointmentPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
