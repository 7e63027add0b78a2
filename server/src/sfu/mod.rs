//! The embedded selective forwarding unit's IO half. The core, sans-IO, is the
//! `bedside_sfu` crate (re-exported here); this module runs it as shards, one thread
//! each ([`shard`]): a `Core`, its own UDP port ([`udp`]) and ICE-TCP listener
//! ([`tcp`]), its timer and its command channel. [`driver`] routes every room to its
//! shard, and the `/rtc` WebSocket sessions (see `crate::rtc`) talk to the shards
//! through it; webhooks ([`webhooks`]) go out through one shared queue.
//!
//! The run-loop contract, which protocol messages are supported and what is not yet are
//! documented in `docs/sfu.md`.

pub mod driver;
pub mod priority;
mod prometheus;
mod shard;
mod tcp;
mod udp;
pub mod webhooks;

pub use bedside_sfu::{
    ConnId, Core, CoreConfig, CoreInput, CoreOutput, ParticipantSnapshot, PeerMode,
    RoomServiceCall, RoomServiceError, RoomServiceReply, core, layers, parse_candidate_init, rate,
    room_service, sdp_text,
};

pub use self::driver::{SfuHandle, SfuSettings, shard_of_room};
pub use self::webhooks::WebhookSettings;
