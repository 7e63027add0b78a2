//! Unit tests of `model`.

use super::*;

const NEW_YORK: Tz = chrono_tz::America::New_York;

fn local(date: &str, time: &str) -> StartInput {
    StartInput::Local {
        date: date.into(),
        time: time.into(),
    }
}

#[test]
fn a_local_time_is_stored_in_utc() {
    let mut errors = Vec::new();
    let start = parse_start(&local("2026-07-01", "09:30"), NEW_YORK, &mut errors).unwrap();
    assert_eq!(start.to_rfc3339(), "2026-07-01T13:30:00+00:00");
}

#[test]
fn a_time_skipped_by_the_spring_clock_change_is_rejected() {
    let mut errors = Vec::new();
    assert_eq!(
        parse_start(&local("2026-03-08", "02:30"), NEW_YORK, &mut errors),
        None
    );
    assert_eq!(errors[0].field, "time");
}

#[test]
fn an_instant_needs_an_offset() {
    let mut errors = Vec::new();
    assert!(
        parse_start(
            &StartInput::Instant("2026-11-23T14:30:00Z".into()),
            NEW_YORK,
            &mut errors
        )
        .is_some()
    );
    for bad in [
        "2026-11-23T14:30:00",
        "tomorrow",
        "",
        "2026-13-01T00:00:00Z",
    ] {
        assert_eq!(
            parse_start(&StartInput::Instant(bad.into()), NEW_YORK, &mut errors),
            None,
            "{bad}"
        );
    }
    assert!(errors.iter().all(|e| e.field == "starts_at"));
}

#[test]
fn far_past_or_future_dates_are_rejected() {
    let mut errors = Vec::new();
    assert_eq!(
        parse_start(
            &StartInput::Instant("1999-12-31T23:00:00Z".into()),
            Tz::UTC,
            &mut errors
        ),
        None
    );
    assert_eq!(
        parse_start(
            &StartInput::Instant("2101-01-01T10:00:00Z".into()),
            Tz::UTC,
            &mut errors
        ),
        None
    );
}

#[test]
fn durations_and_enums_are_checked() {
    let mut errors = Vec::new();
    assert_eq!(parse_duration(30, &mut errors), Some(30));
    assert_eq!(parse_duration(0, &mut errors), None);
    assert_eq!(parse_duration(481, &mut errors), None);
    assert_eq!(
        parse_modality("telehealth", &mut errors),
        Some(Modality::Telehealth)
    );
    assert_eq!(parse_modality("video", &mut errors), None);
    assert_eq!(
        parse_status("cancelled", &mut errors),
        Some(AppointmentStatus::Cancelled)
    );
    assert_eq!(parse_status("done", &mut errors), None);
    assert_eq!(errors.len(), 4);
}

#[test]
fn a_day_spans_local_midnight_to_midnight_even_across_a_clock_change() {
    let (start, end) = day_bounds(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), NEW_YORK);
    assert_eq!(start.to_rfc3339(), "2026-11-01T04:00:00+00:00");
    assert_eq!(end.to_rfc3339(), "2026-11-02T05:00:00+00:00");
}
