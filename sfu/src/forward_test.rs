use super::*;

fn rid(s: &str) -> Option<Rid> {
    Some(Rid::from(s))
}

#[test]
fn layers_rank_q_below_h_below_f() {
    assert_eq!(layer_rank(None), 0);
    assert_eq!(layer_rank(rid("q").as_ref()), 0);
    assert_eq!(layer_rank(rid("h").as_ref()), 1);
    assert_eq!(layer_rank(rid("f").as_ref()), 2);
}

#[test]
fn layer_choice_table() {
    use LayerDecision::*;
    let (q, h, f) = (rid("q"), rid("h"), rid("f"));
    // (current, frame, keyframe, current stale, target active, needs keyframe) -> decision,
    // with the target at h
    let cases = [
        (None, &h, true, false, true, true, Forward),
        (None, &h, false, false, true, true, DropWantKeyframe),
        (None, &f, true, false, true, true, Drop),
        (None, &f, true, false, false, true, Forward),
        (Some(&q), &q, false, false, true, false, Forward),
        (Some(&q), &q, false, false, true, true, DropWantKeyframe),
        (Some(&q), &h, true, false, true, false, Forward),
        (Some(&q), &h, false, false, true, false, DropWantKeyframe),
        (Some(&h), &q, true, false, true, false, Drop),
        (Some(&h), &q, true, true, true, false, Forward),
        (Some(&h), &f, true, false, true, false, Drop),
        (Some(&None), &None, false, false, true, false, Forward),
        // Above the target (it was lowered): move down on a keyframe, keep flowing until.
        (Some(&f), &h, true, false, true, false, Forward),
        (Some(&f), &h, false, false, true, false, DropWantKeyframe),
        (Some(&f), &f, false, false, true, false, Forward),
    ];
    for (i, (current, frame, key, stale, active, needs, expected)) in cases.into_iter().enumerate()
    {
        assert_eq!(
            choose_layer(current, frame, key, stale, active, needs, 1),
            expected,
            "case {i}"
        );
    }
}
