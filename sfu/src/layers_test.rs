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
