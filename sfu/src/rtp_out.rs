//! Packet-level forwarding's numbering: how a subscriber's sending section (one SSRC)
//! carries the packets of whatever layer, or track, it forwards now, with sequence
//! numbers, RTP times and VP8 picture ids that run on without a jump.
//!
//! Each simulcast layer of a publisher is its own RTP stream, numbered on its own. A
//! subscriber receives one stream per track, so when its forwarder switches layers (on a
//! keyframe of the new one), or a reused section starts carrying a new track, the
//! numbering must continue what the section sent before. Otherwise the browser takes
//! the new packets for old ones (sequence numbers or times running backwards) or for a
//! loss it must repair (a jump), and plays nothing. This is LiveKit's "munger" and
//! mediasoup's "RtpSeqManager", as a pure state machine: a [`Mapping`] is started at a
//! keyframe from the section's [`SectionOut`] and then shifts every packet by fixed
//! offsets. Pure functions, table-tested in `rtp_out_test.rs`.

use std::time::Instant;

/// The VP8 payload descriptor fields a forwarder rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vp8Ids {
    /// PictureID and whether the descriptor carries it in 15 bits (else 7).
    pub(crate) picture_id: Option<(u16, bool)>,
    /// TL0PICIDX.
    pub(crate) tl0_pic_idx: Option<u8>,
    /// KEYIDX (5 bits).
    pub(crate) key_idx: Option<u8>,
}

impl Vp8Ids {
    /// Reads them from a VP8 RTP payload (RFC 7741 §4.2), `None` if it has no valid
    /// descriptor.
    pub(crate) fn parse(payload: &[u8]) -> Option<(Self, str0m::rtp::Vp8Descriptor)> {
        let descriptor = str0m::rtp::Vp8Descriptor::parse(payload).ok()?;
        // Vp8Descriptor keeps the PictureID's width to itself; its M bit is the top bit
        // of the byte after the extension byte (RFC 7741 §4.2).
        let wide = payload.get(2).is_some_and(|b| b & 0x80 != 0);
        let ids = Vp8Ids {
            picture_id: descriptor.picture_id().map(|p| (p, wide)),
            tl0_pic_idx: descriptor.tl0_pic_idx(),
            key_idx: descriptor.key_idx(),
        };
        Some((ids, descriptor))
    }
}

/// Writes `ids` into the VP8 payload descriptor at the start of `head` (a copy of the
/// payload's first bytes, RFC 7741 4.2), each field only where the descriptor carries
/// it, keeping the PictureID's width. Returns the descriptor's length, `None` if
/// `head` is shorter than the descriptor. The send path beside str0m sends the result
/// in place of the payload's first bytes, so the payload shared by every subscriber is
/// never copied.
pub(crate) fn write_vp8_ids(head: &mut [u8], ids: &Vp8Ids) -> Option<usize> {
    if *head.first()? & 0x80 == 0 {
        return Some(1);
    }
    let flags = *head.get(1)?;
    let mut at = 2;
    if flags & 0x80 != 0 {
        let wide = *head.get(at)? & 0x80 != 0;
        let width = if wide { 2 } else { 1 };
        let field = head.get_mut(at..at + width)?;
        if let Some((picture_id, _)) = ids.picture_id {
            if wide {
                field.copy_from_slice(&(0x8000 | (picture_id & 0x7fff)).to_be_bytes());
            } else {
                field[0] = (picture_id & 0x7f) as u8;
            }
        }
        at += width;
    }
    if flags & 0x40 != 0 {
        let field = head.get_mut(at)?;
        if let Some(tl0) = ids.tl0_pic_idx {
            *field = tl0;
        }
        at += 1;
    }
    if flags & 0x30 != 0 {
        let field = head.get_mut(at)?;
        if flags & 0x10 != 0
            && let Some(key_idx) = ids.key_idx
        {
            *field = (*field & 0xe0) | (key_idx & 0x1f);
        }
        at += 1;
    }
    Some(at)
}

/// One incoming packet, as the numbering sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InPacket {
    /// Extended sequence number on its publisher stream.
    pub(crate) seq: u64,
    /// Extended RTP time, in the codec's clock units.
    pub(crate) time: u64,
    /// The codec's clock rate.
    pub(crate) hz: u32,
    /// When it reached the SFU.
    pub(crate) arrival: Instant,
    /// Its VP8 descriptor fields (VP8 only).
    pub(crate) vp8: Option<Vp8Ids>,
}

/// The numbers one outgoing packet gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutPacket {
    /// Extended sequence number on the section's stream.
    pub(crate) seq: u64,
    /// RTP time (extended; the wire carries its low 32 bits).
    pub(crate) time: u64,
    /// Rewritten VP8 fields.
    pub(crate) vp8: Option<Vp8Ids>,
}

/// What a subscriber's sending section sent last (its highest sequence number), so the
/// next layer or track sent there continues from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SectionOut {
    /// Highest extended sequence number sent.
    pub(crate) seq: u64,
    /// That packet's RTP time.
    pub(crate) time: u64,
    /// When that packet had reached the SFU.
    pub(crate) wall: Instant,
    /// That packet's VP8 fields, if VP8.
    pub(crate) vp8: Option<Vp8Ids>,
}

impl SectionOut {
    /// Records a packet sent on the section (a retransmission or a late packet, lower
    /// than what was sent, changes nothing).
    pub(crate) fn record(slot: &mut Option<SectionOut>, out: &OutPacket, arrival: Instant) {
        if slot.is_some_and(|s| out.seq <= s.seq) {
            return;
        }
        *slot = Some(SectionOut {
            seq: out.seq,
            time: out.time,
            wall: arrival,
            vp8: out.vp8.or(slot.and_then(|s| s.vp8)),
        });
    }
}

/// How one down track's current layer maps onto its section's numbering: fixed offsets
/// from a start packet on. Started anew at every switch (always a keyframe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// The first incoming sequence number forwarded; earlier ones are dropped (their
    /// numbers on the section were used by what it sent before).
    start_seq: u64,
    seq_offset: i64,
    time_offset: i64,
    picture_id_offset: u16,
    tl0_offset: u8,
    key_idx_offset: u8,
}

impl Mapping {
    /// Starts at `first` (the first packet of a keyframe, or any audio packet),
    /// continuing `last`, what the section sent before. A fresh section starts at the
    /// packet's own numbers, its sequence number kept below 65,536 (the receiver
    /// assumes a rollover counter of 0).
    pub(crate) fn start(first: &InPacket, last: Option<&SectionOut>) -> Self {
        let Some(last) = last else {
            return Mapping {
                start_seq: first.seq,
                seq_offset: (first.seq & 0xffff) as i64 - first.seq as i64,
                time_offset: 0,
                picture_id_offset: 0,
                tl0_offset: 0,
                key_idx_offset: 0,
            };
        };
        // The new stream continues the old one's clock: its last time plus the wall
        // time since (at least one tick, so times never repeat across the switch).
        let elapsed = first.arrival.saturating_duration_since(last.wall);
        let ticks = (elapsed.as_micros() as u64).saturating_mul(u64::from(first.hz)) / 1_000_000;
        let expected_time = last.time + ticks.max(1);
        let (mut picture_id_offset, mut tl0_offset, mut key_idx_offset) = (0, 0, 0);
        if let (Some(now), Some(before)) = (first.vp8, last.vp8) {
            if let (Some((p, _)), Some((q, _))) = (now.picture_id, before.picture_id) {
                picture_id_offset = q.wrapping_add(1).wrapping_sub(p);
            }
            if let (Some(t), Some(u)) = (now.tl0_pic_idx, before.tl0_pic_idx) {
                tl0_offset = u.wrapping_add(1).wrapping_sub(t);
            }
            if let (Some(k), Some(l)) = (now.key_idx, before.key_idx) {
                key_idx_offset = l.wrapping_add(1).wrapping_sub(k);
            }
        }
        Mapping {
            start_seq: first.seq,
            seq_offset: (last.seq + 1) as i64 - first.seq as i64,
            time_offset: expected_time as i64 - first.time as i64,
            picture_id_offset,
            tl0_offset,
            key_idx_offset,
        }
    }

    /// The outgoing numbers of `packet`, `None` if it precedes the start (a reordered
    /// or retransmitted packet from before the switch).
    pub(crate) fn map(&self, packet: &InPacket) -> Option<OutPacket> {
        if packet.seq < self.start_seq {
            return None;
        }
        let seq = (packet.seq as i64 + self.seq_offset) as u64;
        let time = (packet.time as i64 + self.time_offset).max(0) as u64;
        let vp8 = packet.vp8.map(|ids| Vp8Ids {
            picture_id: ids.picture_id.map(|(p, wide)| {
                let mask = if wide { 0x7fff } else { 0x7f };
                (p.wrapping_add(self.picture_id_offset) & mask, wide)
            }),
            tl0_pic_idx: ids.tl0_pic_idx.map(|t| t.wrapping_add(self.tl0_offset)),
            key_idx: ids
                .key_idx
                .map(|k| k.wrapping_add(self.key_idx_offset) & 0x1f),
        });
        Some(OutPacket { seq, time, vp8 })
    }

    /// Whether this mapping changes nothing in a VP8 descriptor (no patch needed).
    pub(crate) fn keeps_vp8(&self) -> bool {
        self.picture_id_offset == 0 && self.tl0_offset == 0 && self.key_idx_offset == 0
    }
}

/// Whether an RTP payload starts a keyframe, for the codecs the SFU forwards (audio
/// packets always count: any of them can start a stream).
pub(crate) fn starts_keyframe(codec: str0m::format::Codec, payload: &[u8]) -> bool {
    use str0m::format::Codec;
    match codec {
        Codec::Vp8 => str0m::rtp::Vp8Descriptor::parse(payload)
            .is_ok_and(|descriptor| descriptor.starts_keyframe(payload)),
        Codec::H264 => h264_starts_keyframe(payload),
        Codec::Vp9 => vp9_starts_keyframe(payload),
        Codec::Av1 => av1_starts_keyframe(payload),
        _ => true,
    }
}

/// An H.264 payload (RFC 6184) whose first NAL unit is an IDR slice or a parameter
/// set (SPS/PPS precede the IDR in a keyframe): single NAL, STAP-A or FU-A start.
fn h264_starts_keyframe(payload: &[u8]) -> bool {
    let key = |nal: u8| matches!(nal & 0x1f, 5 | 7 | 8);
    match payload.first().map(|b| b & 0x1f) {
        Some(24) => payload.get(3).is_some_and(|b| key(*b)),
        Some(28) => payload.get(1).is_some_and(|b| b & 0x80 != 0 && key(*b)),
        Some(_) => key(payload[0]),
        None => false,
    }
}

/// A VP9 payload (RFC 9628) that begins a frame (B) that is not inter-predicted (P).
fn vp9_starts_keyframe(payload: &[u8]) -> bool {
    payload
        .first()
        .is_some_and(|b| b & 0x08 != 0 && b & 0x40 == 0)
}

/// An AV1 payload whose aggregation header says it starts a coded video sequence (N).
fn av1_starts_keyframe(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| b & 0x08 != 0)
}

#[cfg(test)]
#[path = "rtp_out_test.rs"]
mod tests;
