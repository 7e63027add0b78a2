//! What one signaling session may send: sizes of every signal message and of the fields
//! the SFU stores and re-broadcasts, and a message rate. Checked in the session task,
//! before anything reaches the SFU core (one task for every room), so an abusive client
//! costs its own session a close and nobody else anything.
//!
//! The bounds are far above what LiveKit's SDKs send: an SDP offer for a few simulcast
//! tracks is 5–15 kB, an `AddTrackRequest` under 1 kB, a burst of trickled candidates a
//! few dozen messages.

#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use livekit_protocol as proto;
use proto::signal_request::Message as M;

use crate::sfu::rate::TokenBucket;

/// Largest WebSocket frame a session accepts at all.
pub(crate) const MAX_FRAME_BYTES: usize = 256 * 1024;

/// A signaling socket's read buffer. tungstenite's default (128 KiB) is allocated per
/// connection and zeroed again on every read attempt; signaling frames are small, and
/// a larger one (an SDP offer) is read in several chunks up to [`MAX_FRAME_BYTES`].
pub(crate) const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Largest message that carries an SDP (offer, answer, sync state).
const MAX_SDP_MESSAGE_BYTES: usize = 128 * 1024;
/// Largest of any other signal message.
const MAX_OTHER_MESSAGE_BYTES: usize = 16 * 1024;
/// Longest name, client id, stream name or sid the SFU keeps and re-broadcasts.
const MAX_LABEL_BYTES: usize = 256;
/// Most simulcast layers or codecs one track may announce.
const MAX_LAYERS: usize = 8;
/// Most track sids in one subscription or settings request.
const MAX_SIDS_PER_REQUEST: usize = 128;

/// Why a session was closed for what it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Violation(pub &'static str);

/// Checks one decoded signal message against the size limits.
pub(crate) fn check(message: &M) -> Result<(), Violation> {
    let size = message.encoded_len();
    let max = match message {
        M::Offer(_) | M::Answer(_) | M::SyncState(_) => MAX_SDP_MESSAGE_BYTES,
        _ => MAX_OTHER_MESSAGE_BYTES,
    };
    if size > max {
        return Err(Violation("signal message too large"));
    }
    let label = |s: &str| s.len() <= MAX_LABEL_BYTES;
    // `UpdateLayers` is deprecated, but protocol-16 clients still send it.
    #[allow(deprecated)]
    let ok = match message {
        #[allow(deprecated)]
        M::AddTrack(t) => {
            label(&t.name)
                && label(&t.cid)
                && label(&t.stream)
                && label(&t.sid)
                && t.layers.len() <= MAX_LAYERS
                && t.simulcast_codecs.len() <= MAX_LAYERS
                && t.simulcast_codecs
                    .iter()
                    .all(|c| label(&c.codec) && label(&c.cid))
        }
        M::Mute(m) => label(&m.sid),
        M::Subscription(s) => {
            s.track_sids.len()
                + s.participant_tracks
                    .iter()
                    .map(|p| p.track_sids.len())
                    .sum::<usize>()
                <= MAX_SIDS_PER_REQUEST
                && s.track_sids.iter().all(|t| label(t))
                && s.participant_tracks
                    .iter()
                    .all(|p| label(&p.participant_sid) && p.track_sids.iter().all(|t| label(t)))
        }
        M::TrackSetting(t) => {
            t.track_sids.len() <= MAX_SIDS_PER_REQUEST && t.track_sids.iter().all(|s| label(s))
        }
        M::UpdateLayers(u) => label(&u.track_sid) && u.layers.len() <= MAX_LAYERS,
        M::SubscriptionPermission(p) => p.track_permissions.len() <= MAX_SIDS_PER_REQUEST,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Violation("signal message field too long"))
    }
}

/// The signal message rate of one session: `BURST` at once, `PER_SECOND` sustained.
#[derive(Debug)]
pub(crate) struct MessageRate(TokenBucket);

impl MessageRate {
    const BURST: f64 = 200.0;
    const PER_SECOND: f64 = 50.0;

    /// A full bucket at `now`.
    pub(crate) fn new(now: Instant) -> Self {
        Self(TokenBucket::new(Self::BURST, Self::PER_SECOND, now))
    }

    /// Takes one message's token; a violation once the bucket is empty.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Violation> {
        if self.0.take(1.0, now) {
            Ok(())
        } else {
            Err(Violation("too many signal messages"))
        }
    }
}

/// How long a bucket takes to refill completely (for tests).
#[cfg(test)]
pub(crate) fn full_refill() -> Duration {
    Duration::from_secs_f64(MessageRate::BURST / MessageRate::PER_SECOND)
}

#[cfg(test)]
#[path = "limits_test.rs"]
mod tests;
