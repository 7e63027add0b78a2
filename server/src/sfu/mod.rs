//! The embedded selective forwarding unit's IO half. The core, sans-IO, is the
//! `bedside_sfu` crate (re-exported here); this module is the one thin tokio task around
//! it ([`driver`]): the shared UDP socket ([`udp`]), ICE-TCP ([`tcp`]), the timer,
//! webhooks ([`webhooks`]) and the command channel through which the `/rtc` WebSocket
//! sessions (see `crate::rtc`) talk to the core.
//!
//! The run-loop contract, which protocol messages are supported and what is not yet are
//! documented in `docs/sfu.md`.

pub mod driver;
mod prometheus;
mod tcp;
mod udp;
pub mod webhooks;

pub use bedside_sfu::{
    ConnId, Core, CoreConfig, CoreInput, CoreOutput, ParticipantSnapshot, PeerMode,
    RoomServiceCall, RoomServiceError, RoomServiceReply, core, layers, parse_candidate_init, rate,
    room_service, sdp_text,
};

pub use self::driver::{SfuHandle, SfuSettings};
pub use self::webhooks::WebhookSettings;
