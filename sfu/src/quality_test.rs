use std::time::Duration;

use livekit_protocol::ConnectionQuality;

use super::{LinkConditions, QualityTracker, RISE_AFTER};

fn lossy(loss_down: f32) -> LinkConditions {
    LinkConditions {
        loss_down: Some(loss_down),
        rtt: Some(Duration::from_millis(40)),
        ..Default::default()
    }
}

#[test]
fn a_clean_short_link_is_excellent() {
    let (grade, score) = lossy(0.0).grade();
    assert_eq!(grade, ConnectionQuality::Excellent);
    assert!(score > 4.3, "{score}");
}

#[test]
fn five_percent_lost_is_good_and_twelve_percent_poor() {
    assert_eq!(lossy(0.05).grade().0, ConnectionQuality::Good);
    assert_eq!(lossy(0.12).grade().0, ConnectionQuality::Poor);
}

#[test]
fn the_worse_direction_counts() {
    let conditions = LinkConditions {
        loss_up: Some(0.15),
        loss_down: Some(0.0),
        ..Default::default()
    };
    assert_eq!(conditions.grade().0, ConnectionQuality::Poor);
}

#[test]
fn a_long_round_trip_and_jitter_cost_without_any_loss() {
    let far = LinkConditions {
        rtt: Some(Duration::from_millis(700)),
        jitter: Some(Duration::from_millis(60)),
        ..Default::default()
    };
    assert_eq!(far.grade().0, ConnectionQuality::Poor);
    let near = LinkConditions {
        rtt: Some(Duration::from_millis(150)),
        ..Default::default()
    };
    assert_eq!(near.grade().0, ConnectionQuality::Excellent);
}

#[test]
fn video_paused_for_the_downlink_is_poor_and_held_low_at_most_good() {
    let paused = LinkConditions {
        video_paused: true,
        ..lossy(0.0)
    };
    assert_eq!(paused.grade().0, ConnectionQuality::Poor);
    let held = LinkConditions {
        video_held_low: true,
        ..lossy(0.0)
    };
    assert_eq!(held.grade().0, ConnectionQuality::Good);
}

#[test]
fn a_grade_falls_at_once_and_rises_only_after_evaluations_in_a_row() {
    let mut tracker = QualityTracker::default();
    tracker.observe(&lossy(0.15));
    assert_eq!(tracker.shown, ConnectionQuality::Poor);
    for _ in 1..RISE_AFTER {
        tracker.observe(&lossy(0.0));
        assert_eq!(tracker.shown, ConnectionQuality::Poor);
    }
    tracker.observe(&lossy(0.0));
    assert_eq!(tracker.shown, ConnectionQuality::Excellent);
}

#[test]
fn a_rise_interrupted_by_a_bad_evaluation_starts_over() {
    let mut tracker = QualityTracker::default();
    tracker.observe(&lossy(0.15));
    tracker.observe(&lossy(0.0));
    tracker.observe(&lossy(0.15));
    tracker.observe(&lossy(0.0));
    assert_eq!(tracker.shown, ConnectionQuality::Poor);
}

#[test]
fn a_rise_goes_to_the_lowest_grade_of_its_run() {
    let mut tracker = QualityTracker::default();
    tracker.observe(&lossy(0.15));
    for _ in 1..RISE_AFTER {
        tracker.observe(&lossy(0.05));
    }
    tracker.observe(&lossy(0.0));
    assert_eq!(tracker.shown, ConnectionQuality::Good);
}

#[test]
fn a_score_just_over_a_line_does_not_rise_but_just_under_it_falls() {
    let mut tracker = QualityTracker::default();
    // 3.5% lost scores just over excellent's line (4.1), 4.5% just under it.
    assert_eq!(lossy(0.035).grade().0, ConnectionQuality::Excellent);
    assert_eq!(lossy(0.045).grade().0, ConnectionQuality::Good);
    tracker.observe(&lossy(0.045));
    assert_eq!(tracker.shown, ConnectionQuality::Good);
    for _ in 0..5 {
        tracker.observe(&lossy(0.035));
    }
    assert_eq!(tracker.shown, ConnectionQuality::Good, "within the margin");
    for _ in 0..RISE_AFTER {
        tracker.observe(&lossy(0.01));
    }
    assert_eq!(tracker.shown, ConnectionQuality::Excellent);
}

#[test]
fn a_lost_connection_shows_lost_until_it_is_back_then_its_grade_at_once() {
    let mut tracker = QualityTracker::default();
    tracker.set_lost(true);
    assert_eq!(tracker.shown, ConnectionQuality::Lost);
    tracker.observe(&lossy(0.0));
    assert_eq!(tracker.shown, ConnectionQuality::Lost);
    tracker.set_lost(false);
    tracker.observe(&lossy(0.05));
    assert_eq!(tracker.shown, ConnectionQuality::Good);
}

#[test]
fn audio_jitter_is_read_in_the_opus_clock() {
    let mut tracker = QualityTracker::default();
    tracker.audio_jitter_ticks(960);
    assert_eq!(tracker.audio_jitter, Some(Duration::from_millis(20)));
}
