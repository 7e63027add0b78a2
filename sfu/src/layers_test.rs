use super::*;

const CAMERA: [LayerSpec; 3] = [
    LayerSpec {
        rank: 0,
        width: 320,
        bitrate_bps: 150_000,
    },
    LayerSpec {
        rank: 1,
        width: 640,
        bitrate_bps: 500_000,
    },
    LayerSpec {
        rank: 2,
        width: 1280,
        bitrate_bps: 1_500_000,
    },
];

fn want(width: u32, max_rank: Option<u8>) -> Wanted {
    Wanted {
        disabled: false,
        width,
        max_rank,
    }
}

#[test]
fn layer_selection_table() {
    let k = 1000;
    // (wanted, budget, current) -> chosen
    type Case = (Wanted, Option<u64>, Option<u8>, Option<u8>);
    let cases: [Case; 14] = [
        (want(0, None), None, None, Some(2)),
        (
            Wanted {
                disabled: true,
                ..want(0, None)
            },
            Some(10_000 * k),
            Some(2),
            None,
        ),
        (want(300, None), None, None, Some(0)),
        (want(641, None), None, None, Some(2)),
        (want(640, None), Some(10_000 * k), None, Some(1)),
        (want(0, Some(1)), Some(10_000 * k), None, Some(1)),
        (want(0, None), Some(600 * k), Some(2), Some(1)),
        (want(0, None), Some(590 * k), None, Some(0)),
        (want(0, None), Some(600 * k), None, Some(1)),
        (want(0, None), Some(550 * k), Some(1), Some(1)),
        (want(0, None), Some(450 * k), Some(1), Some(0)),
        (want(0, None), Some(1_700 * k), Some(1), Some(1)),
        (want(0, None), Some(1_900 * k), Some(1), Some(2)),
        (want(0, None), Some(50 * k), Some(0), Some(0)),
    ];
    for (i, (wanted, budget, current, expected)) in cases.into_iter().enumerate() {
        assert_eq!(
            select_layer(&CAMERA, wanted, budget, current),
            expected,
            "case {i}"
        );
    }
}

#[test]
fn unknown_layer_widths_put_no_size_ceiling() {
    let unknown = CAMERA.map(|l| LayerSpec { width: 0, ..l });
    assert_eq!(select_layer(&unknown, want(640, None), None, None), Some(2));
}

#[test]
fn a_track_without_simulcast_always_gets_its_only_layer_unless_disabled() {
    let single = [LayerSpec {
        rank: 0,
        width: 640,
        bitrate_bps: 800_000,
    }];
    assert_eq!(
        select_layer(&single, want(1280, None), Some(100_000), None),
        Some(0)
    );
    assert_eq!(
        select_layer(
            &single,
            Wanted {
                disabled: true,
                ..want(0, None)
            },
            None,
            None
        ),
        None
    );
    assert_eq!(select_layer(&[], want(0, None), None, None), None);
}

#[test]
fn video_pauses_only_when_even_the_lowest_layer_clearly_does_not_fit() {
    let k = 1000;
    // (budget, paused now) -> pause
    let cases = [
        (None, false, false),
        (Some(150 * k), false, false),
        // Close to the lowest layer's 150 kbit/s: it keeps flowing.
        (Some(110 * k), false, false),
        (Some(104 * k), false, true),
        (Some(20 * k), false, true),
        // Paused, it resumes only once the layer fits whole.
        (Some(140 * k), true, true),
        (Some(150 * k), true, false),
    ];
    for (i, (budget, paused, expected)) in cases.into_iter().enumerate() {
        assert_eq!(must_pause(&CAMERA, budget, paused), expected, "case {i}");
    }
    let unknown_cost = [LayerSpec {
        rank: 0,
        width: 640,
        bitrate_bps: 0,
    }];
    assert!(!must_pause(&unknown_cost, Some(1), false));
    assert!(!must_pause(&[], Some(1), false));
}

mod upgrade_backoff {
    use super::super::UpgradeBackoff;
    use std::time::{Duration, Instant};

    const SECOND: Duration = Duration::from_secs(1);
    const ALL: Option<u8> = Some(2);

    #[test]
    fn a_move_up_with_nothing_failed_before_goes_through() {
        let mut gate = UpgradeBackoff::default();
        assert_eq!(gate.gate(Instant::now(), Some(0), Some(1), ALL), Some(1));
    }

    #[test]
    fn the_first_estimates_bringing_the_start_layer_down_hold_nothing() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        assert_eq!(gate.gate(t, Some(2), Some(1), ALL), Some(1));
        let soon = t + Duration::from_millis(70);
        assert_eq!(gate.gate(soon, Some(1), Some(2), ALL), Some(2));
    }

    #[test]
    fn a_move_up_the_link_fails_holds_the_next_one_four_seconds_and_each_failure_doubles_it() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        let mut at = t;
        for hold in [4, 8, 16, 32, 60, 60] {
            assert_eq!(
                gate.gate(at, Some(0), Some(1), ALL),
                Some(1),
                "up after the hold"
            );
            at += SECOND;
            assert_eq!(
                gate.gate(at, Some(1), Some(0), ALL),
                Some(0),
                "down at once"
            );
            let held = at + Duration::from_secs(hold) - Duration::from_millis(1);
            assert_eq!(
                gate.gate(held, Some(0), Some(1), ALL),
                Some(0),
                "held {hold} s"
            );
            at += Duration::from_secs(hold);
        }
    }

    #[test]
    fn a_drop_long_after_a_move_up_that_held_is_congestion_and_holds_two_seconds() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        gate.gate(t, Some(0), Some(1), ALL);
        gate.gate(t + SECOND, Some(1), Some(0), ALL); // failed: 4 s
        gate.gate(t + 5 * SECOND, Some(0), Some(1), ALL); // up, and it holds
        let later = t + 30 * SECOND;
        assert_eq!(gate.gate(later, Some(1), Some(0), ALL), Some(0));
        let held = later + 2 * SECOND - Duration::from_millis(1);
        assert_eq!(gate.gate(held, Some(0), Some(1), ALL), Some(0));
        assert_eq!(
            gate.gate(later + 2 * SECOND, Some(0), Some(1), ALL),
            Some(1)
        );
    }

    #[test]
    fn asking_for_less_holds_nothing_back() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        // A smaller video element: the ceiling itself came down.
        assert_eq!(gate.gate(t, Some(2), Some(0), Some(0)), Some(0));
        assert_eq!(
            gate.gate(t + Duration::from_millis(10), Some(0), Some(2), ALL),
            Some(2)
        );
    }

    #[test]
    fn a_lossy_report_soon_after_a_move_up_takes_it_back_and_caps_the_layer_while_held() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        assert_eq!(gate.gate(t, Some(0), Some(1), ALL), Some(1));
        let report = t + 2 * SECOND;
        assert!(gate.report_loss(report, 0.15), "15% lost after a move up");
        // The estimate still says the higher layers fit: the cap keeps the one it left.
        assert_eq!(gate.gate(report, Some(1), Some(2), ALL), Some(0));
        let held = report + 4 * SECOND - Duration::from_millis(1);
        assert_eq!(gate.gate(held, Some(0), Some(2), ALL), Some(0), "held 4 s");
        assert_eq!(
            gate.gate(report + 4 * SECOND, Some(0), Some(2), ALL),
            Some(2)
        );
    }

    #[test]
    fn a_little_loss_or_loss_long_after_a_move_up_takes_nothing_back() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        assert!(!gate.report_loss(t, 0.5), "no move up yet");
        gate.gate(t, Some(0), Some(1), ALL);
        assert!(!gate.report_loss(t + SECOND, 0.03), "3% lost");
        assert!(!gate.report_loss(t + 10 * SECOND, 0.3), "congestion later");
        assert_eq!(gate.gate(t + 10 * SECOND, Some(1), Some(2), ALL), Some(2));
    }

    #[test]
    fn pausing_and_first_choices_pass_unchanged() {
        let t = Instant::now();
        let mut gate = UpgradeBackoff::default();
        assert_eq!(
            gate.gate(t, None, Some(1), ALL),
            Some(1),
            "no previous choice"
        );
        assert_eq!(gate.gate(t, Some(1), None, ALL), None, "disabled or paused");
    }
}

#[test]
fn a_lowest_layer_that_cannot_flow_whole_keeps_its_lower_frame_rates_before_pausing() {
    use super::temporal_fallback;
    // A 150 kbit/s low layer in three temporal layers: 60 kbit/s for TL0, 90 up to TL1.
    assert_eq!(temporal_fallback(150_000, 95_000, 3, None), Some(1));
    assert_eq!(temporal_fallback(150_000, 70_000, 3, None), Some(0));
    assert_eq!(temporal_fallback(150_000, 30_000, 3, None), None, "pause");
    assert_eq!(
        temporal_fallback(150_000, 95_000, 1, None),
        None,
        "nothing to drop"
    );
}

#[test]
fn a_temporal_cap_holds_while_it_nearly_fits_and_rises_only_when_the_next_fits_whole() {
    use super::temporal_fallback;
    // TL1 needs 90 kbit/s: held down to 63 (0.7 of it), not reached before 90.
    assert_eq!(temporal_fallback(150_000, 70_000, 3, Some(1)), Some(1));
    assert_eq!(temporal_fallback(150_000, 70_000, 3, Some(0)), Some(0));
    assert_eq!(temporal_fallback(150_000, 50_000, 3, Some(0)), Some(0));
    assert_eq!(temporal_fallback(150_000, 40_000, 3, Some(0)), None);
}
