use super::*;

/// A VP8 payload descriptor with a 15-bit picture id, TL0PICIDX and `tid`; `start`
/// sets S with partition 0.
fn vp8(start: bool, picture_id: u16, tid: u8) -> Vec<u8> {
    vec![
        0x80 | if start { 0x10 } else { 0 },
        0xe0,
        0x80 | (picture_id >> 8) as u8,
        picture_id as u8,
        9,
        tid << 6,
        0xaa,
    ]
}

fn at(tid: u8, starts_picture: bool) -> Temporal {
    Temporal {
        tid,
        starts_picture,
    }
}

#[test]
fn the_tid_is_read_past_the_picture_id_and_tl0picidx() {
    assert_eq!(Temporal::parse(&vp8(true, 300, 2)), Some(at(2, true)));
    assert_eq!(Temporal::parse(&vp8(false, 300, 1)), Some(at(1, false)));
    // A 7-bit picture id, no TL0PICIDX: I and T only.
    assert_eq!(
        Temporal::parse(&[0x90, 0xa0, 0x05, 0x40, 0xaa]),
        Some(at(1, true))
    );
}

#[test]
fn a_descriptor_without_a_tid_or_too_short_has_no_temporal_layer() {
    assert_eq!(Temporal::parse(&[0x90, 0x80, 0x05, 0xaa]), None);
    assert_eq!(Temporal::parse(&[0x10, 0xaa]), None);
    assert_eq!(Temporal::parse(&[0x90, 0xe0, 0x81]), None);
    assert_eq!(Temporal::parse(&[]), None);
}

#[test]
fn a_lower_cap_applies_at_the_next_picture_and_a_higher_one_waits_for_tl0() {
    let mut cap = TemporalCap::default();
    assert!(cap.forwards(at(2, true)));
    cap.want(Some(0));
    assert!(
        cap.forwards(at(2, false)),
        "the picture under way is finished"
    );
    assert!(!cap.forwards(at(1, true)), "the next picture obeys the cap");
    assert!(cap.forwards(at(0, true)));
    cap.want(None);
    assert!(
        !cap.forwards(at(2, true)),
        "a TL2 picture may reference a dropped TL1"
    );
    assert!(
        cap.forwards(at(0, true)),
        "from a TL0 picture on, everything"
    );
    assert!(cap.forwards(at(2, true)));
}

#[test]
fn forwarded_packets_move_down_by_the_packets_and_pictures_dropped_before_them() {
    let mut gaps = Gaps::default();
    // Picture 10 is seq 100-101 (kept), picture 11 is 102-104 (dropped), 12 is 105.
    assert_eq!(gaps.before(101), Some((0, 0)));
    for seq in 102..=104 {
        gaps.dropped(seq, Some(11));
    }
    assert_eq!(gaps.before(105), Some((3, 1)));
    gaps.dropped(106, Some(13));
    assert_eq!(gaps.before(107), Some((4, 2)));
    assert_eq!(
        gaps.before(105),
        Some((3, 1)),
        "a late packet keeps its place"
    );
    assert_eq!(
        gaps.before(101),
        Some((0, 0)),
        "a retransmission from before the gap"
    );
}

#[test]
fn a_late_packet_of_a_dropped_picture_moves_nothing() {
    let mut gaps = Gaps::default();
    gaps.dropped(102, Some(11));
    gaps.dropped(104, Some(11));
    let after = gaps.before(110);
    gaps.dropped(103, Some(11));
    assert_eq!(gaps.before(110), after);
    assert_eq!(
        after,
        Some((2, 1)),
        "one picture, however its packets arrive"
    );
}

#[test]
fn packets_from_before_the_remembered_gaps_are_not_forwarded() {
    let mut gaps = Gaps::default();
    for i in 0..(MAX_GAPS as u64 + 10) {
        gaps.dropped(1_000 + 2 * i, Some(i as u16));
    }
    assert_eq!(gaps.before(1_001), None);
    assert!(gaps.before(1_000 + 2 * (MAX_GAPS as u64 + 9) + 1).is_some());
}

#[test]
fn three_temporal_layers_carry_forty_and_sixty_percent_below_the_top() {
    assert_eq!(temporal_shares(3), [0.4, 0.6, 1.0]);
    assert_eq!(temporal_shares(2), [0.6, 1.0]);
    assert_eq!(temporal_shares(1), [1.0]);
}

#[test]
fn a_subscriber_asking_for_fewer_frames_gets_the_lowest_layer_that_has_them() {
    assert_eq!(fps_cap(7, 3, 30.0), Some(0), "7.5 fps is TL0");
    assert_eq!(fps_cap(10, 3, 30.0), Some(1), "15 fps is TL1");
    assert_eq!(fps_cap(20, 3, 30.0), None, "all 30");
    assert_eq!(fps_cap(5, 3, 20.0), Some(0), "a 20 fps camera's TL0 is 5");
    assert_eq!(fps_cap(7, 3, 20.0), Some(1), "and 7 takes its TL1, 10");
    assert_eq!(fps_cap(0, 3, 30.0), None, "no wish");
    assert_eq!(fps_cap(7, 1, 30.0), None, "nothing to drop");
}

#[test]
fn a_layers_frame_rate_is_counted_from_the_pictures_it_begins() {
    let t0 = std::time::Instant::now();
    let mut rate = FrameRate::new(t0);
    for i in 1..=21 {
        rate.picture(t0 + std::time::Duration::from_millis(50 * i));
    }
    let fps = rate.fps().unwrap_or_default();
    assert!((fps - 20.0).abs() < 0.5, "{fps}");
}
