//! The generator's media payloads: VP8 packets as Chromium's look to an SFU, each
//! carrying its send time so the delay is measured per packet.

use std::time::Instant;

/// Where the send timestamp sits in every packet's payload (after the VP8 descriptor
/// and payload header).
pub const STAMP_AT: usize = 10;

/// One VP8 RTP payload of `len` bytes: a payload descriptor with a 15-bit PictureID
/// (the S bit on a frame's first packet), then, on a first packet, the VP8 payload
/// header (its P bit clear on a keyframe).
pub fn vp8_packet(keyframe: bool, first: bool, picture_id: u16, len: usize) -> Vec<u8> {
    let mut packet = vec![
        if first { 0x90 } else { 0x80 },
        0x80,
        0x80 | (picture_id >> 8) as u8,
        picture_id as u8,
    ];
    if first {
        packet.extend_from_slice(if keyframe {
            &[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a]
        } else {
            &[0x11, 0x02, 0x00, 0x00, 0x00, 0x00]
        });
    }
    packet.resize(len.max(STAMP_AT + 8), 0x55);
    packet
}

/// Writes the send time (microseconds since `epoch`) into the frame.
pub fn stamped(mut frame: Vec<u8>, epoch: Instant, now: Instant) -> Vec<u8> {
    frame.resize(frame.len().max(STAMP_AT + 8), 0);
    let micros = now.duration_since(epoch).as_micros() as u64;
    frame[STAMP_AT..STAMP_AT + 8].copy_from_slice(&micros.to_be_bytes());
    frame
}
