use std::time::{Duration, Instant};

use super::*;

fn packet(seq: u64, time: u64, at: Instant, picture_id: u16) -> InPacket {
    InPacket {
        seq,
        time,
        hz: 90_000,
        arrival: at,
        vp8: Some(Vp8Ids {
            picture_id: Some((picture_id, true)),
            tl0_pic_idx: Some((picture_id % 256) as u8),
            key_idx: None,
        }),
    }
}

/// A section that last sent `seq` at `time` (arrived at `wall`) with these VP8 ids.
fn sent_last(
    seq: u64,
    time: u64,
    wall: Instant,
    (picture_id, tl0_pic_idx, key_idx): ((u16, bool), Option<u8>, Option<u8>),
) -> SectionOut {
    SectionOut {
        seq,
        time,
        wall,
        vp8: Some(Vp8Ids {
            picture_id: Some(picture_id),
            tl0_pic_idx,
            key_idx,
        }),
    }
}

#[test]
fn a_fresh_section_keeps_the_first_layer_numbers_below_the_first_rollover() {
    let t0 = Instant::now();
    let first = packet(70_000 + 65_536, 1_000, t0, 77);
    let mapping = Mapping::start(&first, None);
    let out = mapping.map(&first).unwrap();
    assert_eq!(out.seq, 4_464, "the low 16 bits of 135,536");
    assert_eq!(out.time, 1_000);
    assert_eq!(out.vp8, first.vp8);
    assert!(mapping.keeps_vp8());
    let next = mapping
        .map(&packet(70_001 + 65_536, 1_000, t0, 77))
        .unwrap();
    assert_eq!(next.seq, out.seq + 1);
}

#[test]
fn a_layer_switch_continues_sequence_numbers_times_and_picture_ids() {
    let t0 = Instant::now();
    // The low layer ran up to seq 500, time 90_000, picture 300.
    let mut section = None;
    let low = Mapping::start(&packet(400, 81_000, t0, 200), None);
    for i in 0..=100u64 {
        let p = packet(400 + i, 81_000 + i / 4 * 3_000, t0, 200 + (i / 4) as u16);
        let out = low.map(&p).unwrap();
        SectionOut::record(&mut section, &out, t0 + Duration::from_millis(i));
    }
    let before = section.unwrap();
    assert_eq!(before.seq, 500);
    // The high layer's keyframe arrives 40 ms later with numbers of its own.
    let at = before.wall + Duration::from_millis(40);
    let key = packet(9_000, 5_000_000, at, 31_000);
    let high = Mapping::start(&key, section.as_ref());
    let out = high.map(&key).unwrap();
    assert_eq!(out.seq, 501, "the next sequence number");
    assert_eq!(out.time, before.time + 3_600, "40 ms on at 90 kHz");
    let (picture_id, wide) = out.vp8.unwrap().picture_id.unwrap();
    let (before_id, _) = before.vp8.unwrap().picture_id.unwrap();
    assert_eq!((picture_id, wide), (before_id + 1, true));
    assert_eq!(
        out.vp8.unwrap().tl0_pic_idx,
        Some(before.vp8.unwrap().tl0_pic_idx.unwrap() + 1)
    );
    assert!(!high.keeps_vp8());
    // The rest of the layer follows with the same offsets.
    let later = high.map(&packet(9_003, 5_003_000, at, 31_001)).unwrap();
    assert_eq!(later.seq, 504);
    assert_eq!(later.time, out.time + 3_000);
    assert_eq!(later.vp8.unwrap().picture_id.unwrap().0, picture_id + 1);
}

#[test]
fn packets_from_before_the_switch_are_dropped_and_late_ones_fill_their_own_holes() {
    let t0 = Instant::now();
    let mapping = Mapping::start(&packet(1_000, 0, t0, 5), None);
    assert_eq!(mapping.map(&packet(999, 0, t0, 4)), None);
    let late = mapping.map(&packet(1_002, 0, t0, 5)).unwrap();
    let mut section = None;
    SectionOut::record(
        &mut section,
        &mapping.map(&packet(1_005, 0, t0, 6)).unwrap(),
        t0,
    );
    SectionOut::record(&mut section, &late, t0);
    assert_eq!(
        section.unwrap().seq,
        1_005,
        "a retransmission does not move the section back"
    );
}

#[test]
fn a_switch_continues_times_with_at_least_one_tick_and_wraps_picture_ids() {
    let t0 = Instant::now();
    let last = sent_last(65_535, 10_000, t0, ((0x7fff, true), Some(255), Some(31)));
    let mut first = packet(12, 777, t0, 3);
    first.vp8.as_mut().unwrap().key_idx = Some(4);
    let mapping = Mapping::start(&first, Some(&last));
    let out = mapping.map(&first).unwrap();
    assert_eq!(out.seq, 65_536, "the rollover is the receiver's to follow");
    assert_eq!(out.time, 10_001);
    let ids = out.vp8.unwrap();
    assert_eq!(ids.picture_id, Some((0, true)));
    assert_eq!(ids.tl0_pic_idx, Some(0));
    assert_eq!(ids.key_idx, Some(0));
}

#[test]
fn seven_bit_picture_ids_stay_seven_bits() {
    let t0 = Instant::now();
    let last = sent_last(10, 0, t0, ((127, false), None, None));
    let mut first = packet(50, 0, t0, 0);
    first.vp8.as_mut().unwrap().picture_id = Some((90, false));
    let out = Mapping::start(&first, Some(&last)).map(&first).unwrap();
    assert_eq!(out.vp8.unwrap().picture_id, Some((0, false)));
}

#[test]
fn keyframes_are_told_apart_per_codec() {
    use str0m::format::Codec;
    // VP8: descriptor with S=1, PID=0, then a payload header whose P bit is 0.
    assert!(starts_keyframe(Codec::Vp8, &[0x10, 0x00, 0x9d]));
    assert!(
        !starts_keyframe(Codec::Vp8, &[0x10, 0x01, 0x9d]),
        "an inter frame"
    );
    assert!(
        !starts_keyframe(Codec::Vp8, &[0x00, 0x00, 0x9d]),
        "not a frame start"
    );
    // With an extended descriptor carrying a 15-bit PictureID.
    assert!(starts_keyframe(Codec::Vp8, &[0x90, 0x80, 0x81, 0x23, 0x00]));
    // H.264: an IDR, an SPS in a STAP-A, an FU-A start of an IDR, a non-IDR slice.
    assert!(starts_keyframe(Codec::H264, &[0x65, 0x88]));
    assert!(starts_keyframe(
        Codec::H264,
        &[0x78, 0x00, 0x10, 0x67, 0x42]
    ));
    assert!(starts_keyframe(Codec::H264, &[0x7c, 0x85, 0x88]));
    assert!(
        !starts_keyframe(Codec::H264, &[0x7c, 0x05, 0x88]),
        "an FU-A middle"
    );
    assert!(!starts_keyframe(Codec::H264, &[0x41, 0x9a]));
    // VP9: B set and P clear.
    assert!(starts_keyframe(Codec::Vp9, &[0x08]));
    assert!(!starts_keyframe(Codec::Vp9, &[0x48]));
    // Audio: any packet.
    assert!(starts_keyframe(Codec::Opus, &[0xfc]));
}

#[test]
fn the_vp8_fields_are_read_with_their_width() {
    // X, then I, L and T, a 15-bit PictureID 0x0123, TL0PICIDX 9, the TID byte, a payload byte.
    let (ids, _) = Vp8Ids::parse(&[0x90, 0xe0, 0x81, 0x23, 0x09, 0x20, 0x00]).unwrap();
    assert_eq!(ids.tl0_pic_idx, Some(9));
    assert_eq!(ids.picture_id, Some((0x0123, true)));
    // A 7-bit one.
    let (ids, _) = Vp8Ids::parse(&[0x90, 0x80, 0x23, 0x00]).unwrap();
    assert_eq!(ids.picture_id, Some((0x23, false)));
    assert!(Vp8Ids::parse(&[]).is_none());
}

#[test]
fn vp8_ids_written_into_a_copy_of_the_descriptor_read_back_as_written_and_the_rest_is_untouched() {
    // X, S; I, L, T, K; a 15-bit PictureID 0x1234; TL0PICIDX 9; TID 2, Y, KEYIDX 3.
    let payload = [0x90, 0xf0, 0x92, 0x34, 9, 0b1010_0011, 0xaa, 0xbb];
    let ids = Vp8Ids {
        picture_id: Some((0x7ffe, true)),
        tl0_pic_idx: Some(200),
        key_idx: Some(30),
    };
    let mut head = payload;
    assert_eq!(write_vp8_ids(&mut head, &ids), Some(6));
    let (read, _) = Vp8Ids::parse(&head).expect("still a VP8 descriptor");
    assert_eq!(read, ids);
    assert_eq!(head[5] & 0xe0, 0b1010_0000, "TID and Y are kept");
    assert_eq!(head[6..], payload[6..]);
    // A 7-bit PictureID keeps its width.
    let mut narrow = [0x90, 0x80, 0x05, 0xcc];
    let seven = Vp8Ids {
        picture_id: Some((0x1ff, false)),
        tl0_pic_idx: None,
        key_idx: None,
    };
    assert_eq!(write_vp8_ids(&mut narrow, &seven), Some(3));
    assert_eq!(narrow, [0x90, 0x80, 0x7f, 0xcc]);
    assert_eq!(
        write_vp8_ids(&mut [0x90, 0xf0, 0x92], &ids),
        None,
        "cut short"
    );
    assert_eq!(
        write_vp8_ids(&mut [0x10, 0x00], &ids),
        Some(1),
        "no extension byte"
    );
}
