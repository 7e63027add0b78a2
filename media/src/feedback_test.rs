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
