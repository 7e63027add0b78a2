//! Keyframe requests: a subscriber's PLI/FIR goes to its track's publisher only, a new
//! subscriber asks for keyframes on every layer it may start on, and requests to one
//! publisher layer are throttled.

use std::time::{Duration, Instant};

use str0m::media::{KeyframeRequestKind, Rid};

use super::core::{ConnId, Core};
use super::participant::Side;

/// Keyframe requests to one publisher layer are at most this frequent.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

impl Core {
    /// A subscriber's decoder asked for a keyframe: ask the track's publisher only.
    pub(crate) fn subscriber_wants_keyframe(
        &mut self,
        now: Instant,
        conn: ConnId,
        side: Side,
        request: str0m::media::KeyframeRequest,
    ) {
        let Some(p) = self.participants.get(&conn) else {
            return;
        };
        if p.down_side() != side {
            return;
        }
        let Some(d) = p.down.iter().find(|d| d.mid() == Some(request.mid)) else {
            return;
        };
        let (publisher, sid, rid) = (d.publisher, d.track_sid.clone(), d.layer.flatten());
        self.request_keyframe(now, publisher, &sid, rid);
    }

    /// Asks a track's publisher for keyframes on every layer a new subscriber may start on.
    pub(crate) fn request_track_keyframes(&mut self, now: Instant, publisher: ConnId, sid: &str) {
        let rids: Vec<Option<Rid>> = match self
            .participants
            .get(&publisher)
            .and_then(|p| p.published.iter().find(|t| t.info.sid == sid))
        {
            Some(track) if track.rids.is_empty() => vec![None],
            Some(track) => track.rids.iter().map(|r| Some(*r)).collect(),
            None => return,
        };
        for rid in rids {
            self.request_keyframe(now, publisher, sid, rid);
        }
    }

    /// Sends a PLI for one layer of a published track, throttled.
    pub(crate) fn request_keyframe(
        &mut self,
        now: Instant,
        publisher: ConnId,
        sid: &str,
        rid: Option<Rid>,
    ) {
        let Some(p) = self.participants.get_mut(&publisher) else {
            return;
        };
        let Some(track) = p.published.iter_mut().find(|t| t.info.sid == sid) else {
            return;
        };
        let Some(mid) = track.mid else {
            return;
        };
        if track
            .last_keyframe_request
            .get(&rid)
            .is_some_and(|t| now.saturating_duration_since(*t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        // A layer with no packet yet has no stream: its first frame is a keyframe
        // anyway, and the request is not counted against the throttle (the next one
        // must not wait for it).
        let mut api = p.publisher.rtc.direct_api();
        let Some(stream) = api.stream_rx_by_mid(mid, rid) else {
            return tracing::debug!(publisher, "sfu keyframe request for no stream yet");
        };
        stream.request_keyframe(KeyframeRequestKind::Pli);
        track.last_keyframe_request.insert(rid, now);
        p.metrics.keyframe_requests += 1;
        self.dirty.insert((publisher, Side::Publisher));
    }
}
