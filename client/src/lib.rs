//! Bedside's media client: LiveKit's client protocol in Rust, in the browser.
//!
//! The protocol's state and decisions live in the sans-IO [`bedside_signal`] crate
//! (shared with the server's test peers and the benchmark); this crate drives it on
//! `web-sys`: the signaling WebSocket, `RTCPeerConnection`s, `getUserMedia` and
//! `getDisplayMedia`, and observers for adaptive stream. It sits in the same room as
//! LiveKit's own JS SDK, on Bedside's embedded SFU or on a LiveKit deployment.
//!
//! ```ignore
//! let room = Room::connect("wss://media.example", &token, RoomOptions::default()).await?;
//! let camera = room.publish_camera(None).await?;
//! for participant in room.participants() { /* attach their tracks */ }
//! room.set_muted(&camera, true);
//! ```
//!
//! What it does, and where:
//! - joining with one peer connection (`/rtc/v1`, the first offer inside the join
//!   request) or two (`/rtc`), falling back when `/rtc/v1` is missing ([`room`],
//!   [`reconnect`](crate::reconnect));
//! - publishing with LiveKit's simulcast layers, mute, device switch, dynacast, and
//!   following the grant live ([`publish`](crate::publish));
//! - subscribing, and reporting what each video element shows ([`adaptive`]);
//! - resume, then full rejoin, on LiveKit's retry delays;
//! - statistics and a quality level ([`stats`]);
//! - typed errors with messages for people ([`ClientError`]). Nothing panics.
//!
//! Browser only: every item here needs `wasm32` and a `window`.

mod adaptive;
pub mod audio;
mod engine;
pub mod error;
mod js;
pub mod media;
mod peer;
mod publish;
mod reconnect;
pub mod remote;
pub mod room;
mod signals;
mod socket;
pub mod stats;

pub use bedside_signal::ConnectMode;
pub use error::ClientError;
pub use media::{Device, DeviceKind, TrackSource, list_devices};
pub use publish::LocalTrack;
pub use remote::{RemoteParticipant, RemoteTrack, TrackKind};
pub use room::{ConnectionState, Room, RoomEvent, RoomOptions, Scenario};
pub use stats::{Direction, Quality, Route, Stats, StreamStats};
