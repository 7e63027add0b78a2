//! The embedded selective forwarding unit (SFU): LiveKit's client protocol over `str0m`.
//!
//! Two layers, after LiveKit's `pkg/rtc` / `pkg/sfu` split and str0m's `chat.rs`:
//!
//! * [`core::Core`] is **sans-IO**: rooms, participants, their `str0m::Rtc` peers, tracks,
//!   subscriptions and every forwarding decision. It never reads the clock (every call
//!   takes `now`), never touches a socket, spawns nothing and takes no lock, so the
//!   simulation tests drive it with a virtual clock and an in-memory network.
//! * [`driver`] is the one thin tokio task around it: the shared UDP socket, the timer and
//!   the command channel through which the `/rtc` WebSocket sessions (see `crate::rtc`)
//!   talk to the core.
//!
//! The run-loop contract, which protocol messages are supported and what is not yet are
//! documented in `docs/sfu.md`.

mod adapt;
pub mod core;
mod data;
pub mod driver;
mod forward;
mod ids;
mod info;
pub mod layers;
mod metrics;
mod negotiate;
mod participant;
pub mod rate;
mod resume;
pub mod room_service;
pub mod sdp_text;
mod signaling;
mod subscriptions;
mod tcp;
mod udp;
mod views;
pub mod webhooks;

#[cfg(test)]
#[path = "sim_test.rs"]
mod sim_test;

pub use self::core::{ConnId, Core, CoreConfig, CoreInput, CoreOutput, PeerMode};
pub use self::driver::{SfuHandle, SfuSettings};
pub use self::room_service::{RoomServiceCall, RoomServiceError, RoomServiceReply};
#[cfg(test)]
pub(crate) use self::signaling::parse_candidate_init;
pub use self::views::ParticipantSnapshot;
pub use self::webhooks::WebhookSettings;
