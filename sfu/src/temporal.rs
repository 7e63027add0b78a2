//! Temporal layers: forwarding only the lower frame rates of a VP8 stream.
//!
//! libwebrtc encodes each VP8 simulcast layer in three temporal layers by default
//! (L1T3): every fourth frame is TL0, the frames between alternate TL2, TL1, TL2. A TL1
//! frame references only TL0, a TL2 frame TL0 or TL1, so dropping every TL2 frame halves
//! the frame rate and dropping TL1 too quarters it, and what remains still decodes.
//! libwebrtc gives the three about 40%, 20% and 40% of the layer's bits. This is how a
//! subscriber whose link cannot carry even the lowest simulcast layer keeps moving
//! video (at 7 or 15 frames a second) before it must be paused, and how one that asks
//! for fewer frames (`UpdateTrackSettings.fps`, livekit-client's `setVideoFPS`) gets
//! them.
//!
//! What the forwarder must keep right:
//! - **Where the cap changes.** Lowering it is safe at any picture. Raising it waits
//!   for a TL0 picture: the frames after it reference nothing that was dropped.
//! - **Renumbering with gaps.** The receiver must not see the dropped packets as lost
//!   (it would ask for them, and freeze waiting). [`Gaps`] records, from which incoming
//!   sequence number on, how many packets and pictures were dropped, and each
//!   forwarded packet moves down by those, a late or retransmitted one by the count at
//!   its own place.
//! - **Picture ids stay continuous** over the dropped pictures (libwebrtc's frame
//!   reference finder waits for a missing picture id). TL0PICIDX needs nothing: TL0 is
//!   never dropped.

use std::collections::VecDeque;

/// A VP8 packet's temporal fields (RFC 7741 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Temporal {
    /// The temporal layer (TID, 0 to 3).
    pub(crate) tid: u8,
    /// The packet starts a picture (S set, partition index 0).
    pub(crate) starts_picture: bool,
}

impl Temporal {
    /// Reads them from a VP8 RTP payload; `None` without a TID (one temporal layer).
    pub(crate) fn parse(payload: &[u8]) -> Option<Self> {
        let first = *payload.first()?;
        let starts_picture = first & 0x10 != 0 && first & 0x07 == 0;
        if first & 0x80 == 0 {
            return None;
        }
        let extension = *payload.get(1)?;
        let (has_picture_id, has_tl0, has_tid) = (
            extension & 0x80 != 0,
            extension & 0x40 != 0,
            extension & 0x20 != 0,
        );
        if !has_tid {
            return None;
        }
        let mut at = 2;
        if has_picture_id {
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if has_tl0 {
            at += 1;
        }
        let tid = payload.get(at)? >> 6;
        Some(Self {
            tid,
            starts_picture,
        })
    }
}

/// Bits a layer's lower temporal layers carry, as shares of the whole layer, by how
/// many temporal layers it has (libwebrtc's default allocation): index `t` is TID 0 to
/// `t`.
pub(crate) fn temporal_shares(layers: u8) -> &'static [f64] {
    match layers {
        0 | 1 => &[1.0],
        2 => &[0.6, 1.0],
        _ => &[0.4, 0.6, 1.0],
    }
}

/// Frames per second of a layer before it was measured (a camera's); each temporal
/// layer below the top halves it.
pub(crate) const DEFAULT_FPS: f64 = 30.0;

/// The temporal cap for a subscriber that asked for `max_fps` (0: all) of a layer of
/// `layer_fps` in `temporal_layers`: the lowest temporal layer whose rate reaches it
/// (within a tenth), `None` for all.
pub(crate) fn fps_cap(max_fps: u32, temporal_layers: u8, layer_fps: f64) -> Option<u8> {
    if max_fps == 0 || temporal_layers < 2 {
        return None;
    }
    let top = temporal_layers - 1;
    (0..top).find(|&t| layer_fps / f64::from(1u32 << (top - t)) * 1.1 >= f64::from(max_fps))
}

/// A layer's frames per second: pictures begun per second, over windows of a second,
/// smoothed across them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FrameRate {
    window_start: std::time::Instant,
    pictures: u32,
    fps: Option<f64>,
}

impl FrameRate {
    /// Starts counting at `now`.
    pub(crate) fn new(now: std::time::Instant) -> Self {
        Self {
            window_start: now,
            pictures: 0,
            fps: None,
        }
    }

    /// A picture began at `now`.
    pub(crate) fn picture(&mut self, now: std::time::Instant) {
        self.pictures += 1;
        let elapsed = now
            .saturating_duration_since(self.window_start)
            .as_secs_f64();
        if elapsed < 1.0 {
            return;
        }
        let measured = f64::from(self.pictures) / elapsed;
        self.fps = Some(self.fps.map_or(measured, |old| (old + measured) / 2.0));
        self.window_start = now;
        self.pictures = 0;
    }

    /// Frames per second, once a window was counted.
    pub(crate) fn fps(&self) -> Option<f64> {
        self.fps
    }
}

/// The highest temporal layer a subscriber is sent, changed only where it is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TemporalCap {
    /// In effect now (`None`: every layer).
    current: Option<u8>,
    /// Asked for; reached at the next picture (lower) or TL0 picture (higher).
    wanted: Option<u8>,
}

impl TemporalCap {
    /// Asks for `cap` (`None`: every layer).
    pub(crate) fn want(&mut self, cap: Option<u8>) {
        self.wanted = cap;
    }

    /// What is asked for.
    pub(crate) fn wanted(&self) -> Option<u8> {
        self.wanted
    }

    /// Whether to forward a packet of `temporal`, moving the cap where it is safe.
    pub(crate) fn forwards(&mut self, temporal: Temporal) -> bool {
        if temporal.starts_picture && self.current != self.wanted {
            let lower = match (self.wanted, self.current) {
                (Some(w), Some(c)) => w < c,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if lower || temporal.tid == 0 {
                self.current = self.wanted;
            }
        }
        self.current.is_none_or(|cap| temporal.tid <= cap)
    }

    /// Starts over (a new mapping begins at a keyframe, which is TL0).
    pub(crate) fn restart(&mut self) {
        self.current = self.wanted;
    }
}

/// Most drop points kept; a packet from before the oldest is not forwarded.
const MAX_GAPS: usize = 256;

/// The packets and pictures dropped from a stream, for renumbering what is forwarded.
///
/// A packet of a dropped picture that arrives after newer packets (reordered, or
/// retransmitted by the publisher) is dropped too, but its number on the way out was
/// already passed over: the receiver sees one missing packet, asks for it a few times
/// and goes on (the pictures around it are whole). Forwarding it instead would give
/// the receiver a fragment under a picture id that is already another picture's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Gaps {
    /// From an incoming sequence number on: packets and pictures dropped before it.
    points: VecDeque<(u64, u64, u16)>,
    /// Packets below this are from before the kept points.
    forgotten_below: u64,
    /// The picture id of the last dropped packet (a picture counts once).
    last_picture: Option<u16>,
}

impl Gaps {
    /// Forgets every gap (a new mapping starts).
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Whether nothing was dropped.
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Packet `seq` of picture `picture_id` is dropped. Only a packet newer than every
    /// drop so far moves the numbering (see the type's docs).
    pub(crate) fn dropped(&mut self, seq: u64, picture_id: Option<u16>) {
        let (from, packets, pictures) = self.points.back().copied().unwrap_or((0, 0, 0));
        if seq < from {
            return;
        }
        let new_picture = picture_id.is_some() && picture_id != self.last_picture;
        self.last_picture = picture_id;
        let point = (seq + 1, packets + 1, pictures + u16::from(new_picture));
        match self.points.back_mut() {
            Some(last) if last.0 == seq => *last = point,
            _ => self.points.push_back(point),
        }
        if self.points.len() > MAX_GAPS {
            self.points.pop_front();
            self.forgotten_below = self.points.front().map_or(0, |p| p.0);
        }
    }

    /// How many packets and pictures were dropped before `seq`; `None` if it is from
    /// before what is remembered.
    pub(crate) fn before(&self, seq: u64) -> Option<(u64, u16)> {
        if seq < self.forgotten_below {
            return None;
        }
        let at = self.points.partition_point(|(from, _, _)| *from <= seq);
        Some(match at {
            0 => (0, 0),
            i => {
                let (_, packets, pictures) = self.points[i - 1];
                (packets, pictures)
            }
        })
    }
}

#[cfg(test)]
#[path = "temporal_test.rs"]
mod tests;
