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
