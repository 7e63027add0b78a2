//! The media path beside str0m, sans-IO (no sockets, no clock, no tokio).
//!
//! str0m runs a peer's ICE, DTLS, SDP and RTCP. Every RTP packet it sends or receives
//! also goes through its session: stream lookup, a timer pass, the RTX cache, pacing
//! (`docs/sfu.md`, "Where a packet's time goes"). That per-packet work is most of what a
//! packet costs the SFU and the benchmark's load generator alike. This crate is the
//! path that does without it, one brick at a time:
//!
//! - [`keys`]: the SRTP keys of a peer's DTLS handshake, seen on their way to str0m by a
//!   wrapped crypto provider (no fork of str0m).
//! - [`srtp`]: SRTP protection and unprotection of RTP packets (RFC 3711 key
//!   derivation, RFC 7714 AEAD-AES-GCM), on str0m's own cipher provider; [`srtcp`] the
//!   same for the RTCP this path writes.
//! - [`index`]: a receiver's rollover counter estimate and replay window.
//! - [`rtp`]: an RTP header with one-byte header extensions (RFC 8285), written into a
//!   caller's buffer.
//! - [`rtcp`] and [`feedback`]: the receiver's feedback (transport-wide congestion
//!   control, NACK), and what it remembers to write it.
//! - [`estimate`]: the sender's side of that feedback, a send-side bandwidth estimate
//!   (delay trend and loss, after libwebrtc's), the brick the SFU's send side needs.
//! - [`send`]: the sending end of a transport: transport-wide numbering, protection,
//!   repairs on the RTX stream for NACKs (within [`repair_budget`]), and sender reports
//!   from what really left.
//!
//! The load generator (`bench`) sends its media through it, and the SFU receives its
//! publishers' media through it (`docs/sfu.md`, "The media path beside str0m").

pub mod estimate;
mod estimate_delay;
pub mod estimate_probe;
pub mod feedback;
pub mod index;
pub mod keys;
pub mod repair_budget;
pub mod rtcp;
pub mod rtp;
pub mod send;
pub mod srtcp;
pub mod srtp;
