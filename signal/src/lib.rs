//! The client side of LiveKit's signaling protocol (versions 16–17) without IO.
//!
//! As `quinn-proto` is to `quinn`, [`Session`] holds the protocol's state and decisions,
//! and a driver moves bytes and time: it opens the WebSocket at [`join_url`], feeds
//! every received frame to [`Session::handle_frame`], sends what [`Session::poll_transmit`]
//! returns, reacts to [`Session::poll_event`], and calls [`Session::handle_timeout`] when
//! [`Session::poll_timeout`] says. The clock is the driver's: every call that needs the
//! time takes `now_ms` (any monotonic millisecond count). The browser client drives it
//! on `web-sys`; tests and the server's test peers drive it natively.
//!
//! What it decides: negotiation bookkeeping (offer/answer ids, stale answers ignored),
//! remote ICE candidates held until the matching remote description is set, keep-alive
//! with `ping_req` and RTT from `pong_resp`, loss of the server detected within the
//! ping timeout, and what to do after a loss ([`recovery`]: resume, full rejoin, or
//! stop, with LiveKit's retry delays).

pub mod ext;
pub mod join;
pub mod recovery;
pub mod sdp;
mod session;

pub use livekit_protocol as proto;

pub use self::join::{ConnectMode, JoinOptions, join_url};
pub use self::recovery::{LossCause, ReconnectPolicy, Recovery};
pub use self::session::{Event, Session, SignalError, Target};
