//! The visit's control plane: a telehealth appointment's meeting, its participants,
//! one-tap links, the waiting room and admission, media tokens by the grant matrix,
//! consent, TURN credentials, the LiveKit webhook receiver, events and the audit trail.
//!
//! It speaks to the media plane only through LiveKit's public contracts
//! ([`media::MediaPlane`]), so the embedded SFU and a LiveKit cluster are driven by the
//! same code. Layout: [`model`] (pure rules), [`store`] (SQL), [`service`], [`roster`]
//! and [`admission`] (the clinician's operations), [`visit`] (the participant's),
//! [`links`], [`consent`], [`chat`], [`notes`] (the SOAP note), [`webhook`], [`turn`],
//! and the HTTP routes in [`routes`] and [`visit_routes`].

pub mod admission;
pub mod chat;
pub mod consent;
pub mod links;
pub mod media;
pub mod model;
pub mod notes;
pub mod roster;
pub mod routes;
pub mod service;
pub mod store;
pub mod turn;
pub mod visit;
pub mod visit_routes;
pub mod webhook;

/// Every meetings route.
pub fn router() -> axum::Router<crate::state::AppState> {
    routes::router().merge(visit_routes::router())
}
