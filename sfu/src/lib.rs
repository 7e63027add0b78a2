//! Bedside's selective forwarding unit, sans-IO: LiveKit's client protocol over `str0m`.
//!
//! [`core::Core`] holds the rooms, the participants with their `str0m::Rtc` peers, the
//! published ("up") tracks, each subscriber's "down" tracks, layer selection, session
//! resume and the room service, and makes every forwarding decision. It never reads the
//! clock (every call takes `now`), never touches a socket, spawns nothing and takes no
//! lock: this crate has no tokio and no IO at all, as `quinn-proto` is to `quinn`, so
//! the compiler keeps it that way. The simulation tests (`sim_test`) drive it with a
//! virtual clock and an in-memory network.
//!
//! The server's `sfu::driver` is the one thin tokio task around it: the shared UDP
//! socket, ICE-TCP, the timer, webhooks, and the command channel through which the
//! `/rtc` WebSocket sessions talk to the core. The run-loop contract, the supported
//! protocol and what is not yet are documented in `docs/sfu.md`.

mod adapt;
pub mod core;
mod data;
pub mod delay;
mod fast_rx;
mod fast_streams;
mod fast_tx;
mod fast_tx_wiring;
mod forward;
mod grant;
pub mod ids;
mod info;
mod keyframes;
pub mod layers;
mod metadata;
mod metrics;
mod negotiate;
mod participant;
mod participants;
mod peer_events;
mod poll_rtc;
mod quality;
pub mod rate;
mod receive_sections;
mod resume;
mod room;
pub mod room_service;
mod rtp_out;
pub mod sdp_text;
mod signaling;
mod speakers;
mod subscriptions;
mod temporal;
mod views;

#[cfg(test)]
#[path = "sim_test.rs"]
mod sim_test;

pub use self::core::{ConnId, Core, CoreConfig, CoreInput, CoreOutput, PeerMode};

/// A map for the per-packet paths: FxHash, not SipHash (SipHash was 3% of the SFU's time
/// at 128 visits, docs/sfu.md). Only for keys a remote cannot choose at will: layer ids
/// and section ids the SDP fixed, remote addresses that passed ICE, our own sequence
/// numbers.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
pub use self::delay::{DelayHistogram, ForwardDelays};
pub use self::grant::JoinGrant;
pub use self::metrics::{ParticipantStats, RoomStats, SfuStats};
pub use self::room_service::{RoomServiceCall, RoomServiceError, RoomServiceReply};
pub use self::signaling::parse_candidate_init;
pub use self::views::ParticipantSnapshot;
/// Bedside's extension of the signaling protocol (open receive sections), as the driver
/// encodes it.
pub use bedside_signal::ext as signal_ext;
