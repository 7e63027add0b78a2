use std::time::{Duration, Instant};

use super::*;

#[test]
fn a_gap_is_asked_for_three_times_then_given_up_and_a_late_arrival_stops_it() {
    let now = Instant::now();
    let retry = Duration::from_millis(100);
    let mut nacks = NackTracker::default();
    for seq in [10, 11, 14] {
        nacks.record(seq, now);
    }
    assert_eq!(nacks.due(now, retry), [12, 13]);
    assert!(nacks.due(now + Duration::from_millis(50), retry).is_empty());
    nacks.record(12, now + Duration::from_millis(60));
    assert_eq!(nacks.due(now + retry, retry), [13]);
    assert_eq!(nacks.due(now + 2 * retry, retry), [13]);
    assert!(!nacks.has_missing(), "given up after three tries");
}

#[test]
fn what_arrived_is_remembered_so_a_second_copy_is_known_and_a_gap_is_not() {
    let now = Instant::now();
    let mut nacks = NackTracker::default();
    assert!(!nacks.received(5), "nothing yet");
    for seq in [5, 6, 9] {
        nacks.record(seq, now);
    }
    assert!(nacks.received(5) && nacks.received(6) && nacks.received(9));
    assert!(!nacks.received(7) && !nacks.received(8), "the gap");
    assert!(!nacks.received(10), "not yet");
    nacks.record(8, now);
    assert!(nacks.received(8), "a late arrival fills its slot");
    // A thousand packets later the slot of 9 is reused: 9 is no longer known.
    for seq in 10..=1_040 {
        nacks.record(seq, now);
    }
    assert!(!nacks.received(9));
    assert!(nacks.received(1_033));
    // 1,050 skips 1,041 to 1,049: their slots (the same as 17 to 25) are cleared.
    nacks.record(1_050, now);
    assert!(!nacks.received(1_045));
    // A restart forgets everything.
    nacks.record(9_000, now);
    assert!(!nacks.received(1_050) && nacks.received(9_000));
}

#[test]
fn a_jump_past_the_largest_gap_is_a_restart_not_a_loss() {
    let now = Instant::now();
    let mut nacks = NackTracker::default();
    nacks.record(1, now);
    nacks.record(5_000, now);
    assert!(!nacks.has_missing());
}

#[test]
fn a_packet_older_than_what_was_reported_is_not_reported_again() {
    let now = Instant::now();
    let mut twcc = TwccReceiver::default();
    twcc.record(10, now);
    twcc.record(12, now);
    assert!(twcc.write_feedback(1, 2, &mut Vec::new()));
    twcc.record(11, now);
    assert!(!twcc.has_unreported());
}

#[test]
fn a_packet_reordered_ahead_of_the_first_report_is_reported_with_the_rest() {
    let now = Instant::now();
    let mut twcc = TwccReceiver::default();
    twcc.record(12, now);
    twcc.record(10, now + Duration::from_millis(1));
    let mut out = Vec::new();
    assert!(twcc.write_feedback(1, 2, &mut out));
    // Base 10, three numbers (10 to 12), 11 lost.
    assert_eq!(u16::from_be_bytes([out[12], out[13]]), 10);
    assert_eq!(u16::from_be_bytes([out[14], out[15]]), 3);
    assert!(!twcc.has_unreported());
}

#[test]
fn a_jump_far_ahead_gives_up_the_oldest_instead_of_growing_without_bound() {
    let now = Instant::now();
    let mut twcc = TwccReceiver::default();
    // Steps of 30,000 (each read as forwards), far past what the window keeps.
    let mut seq = 0u16;
    for _ in 0..10 {
        twcc.record(seq, now);
        seq = seq.wrapping_add(30_000);
    }
    assert!(twcc.unreported.len() as u64 <= MOST_UNREPORTED);
    assert_eq!(twcc.arrived, 1, "only the newest is still in the window");
    let mut out = Vec::new();
    let mut reports = 0;
    while twcc.write_feedback(1, 2, &mut out) {
        reports += 1;
    }
    assert_eq!(
        reports, 1,
        "the gap is given up, not reported a thousand at a time"
    );
    assert!(!twcc.has_unreported());
}

#[test]
fn feedback_goes_on_after_an_outage_longer_than_one_report_can_cover() {
    let now = Instant::now();
    let mut twcc = TwccReceiver::default();
    twcc.record(10, now);
    assert!(twcc.write_feedback(1, 2, &mut Vec::new()));
    // 1,500 packets lost (seconds of video), then the link is back.
    twcc.record(1_511, now + Duration::from_secs(4));
    let mut out = Vec::new();
    assert!(twcc.write_feedback(1, 2, &mut out), "feedback resumes");
    assert_eq!(u16::from_be_bytes([out[12], out[13]]), 1_511);
    assert!(!twcc.has_unreported());
    twcc.record(1_512, now + Duration::from_secs(4));
    out.clear();
    assert!(twcc.write_feedback(1, 2, &mut out));
    assert_eq!(
        u16::from_be_bytes([out[12], out[13]]),
        1_512,
        "and runs on from there"
    );
}
