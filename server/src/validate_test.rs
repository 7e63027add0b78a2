//! Unit tests of `validate`.

use super::*;

#[test]
fn emails_are_lowercased_and_checked() {
    let mut errors = Vec::new();
    assert_eq!(
        email("e", " Ann@Clinic.Test ", &mut errors).as_deref(),
        Some("ann@clinic.test")
    );
    for bad in [
        "",
        "ann",
        "ann@",
        "@clinic.test",
        "ann@clinic",
        "a nn@clinic.test",
        "ann@.test",
    ] {
        assert_eq!(
            email("e", bad, &mut errors),
            None,
            "{bad:?} should be rejected"
        );
    }
}

#[test]
fn phones_accept_common_formats_and_reject_letters() {
    let mut errors = Vec::new();
    assert!(optional_phone("p", Some("+1 (555) 010-0199"), &mut errors).is_some());
    assert_eq!(optional_phone("p", Some(""), &mut errors), Some(None));
    assert_eq!(optional_phone("p", Some("call me"), &mut errors), None);
    assert_eq!(optional_phone("p", Some("123"), &mut errors), None);
}

#[test]
fn birth_dates_must_be_real_and_past() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut errors = Vec::new();
    assert!(optional_birth_date("d", Some("1980-02-29"), today, &mut errors).is_some());
    assert_eq!(
        optional_birth_date("d", Some("1981-02-29"), today, &mut errors),
        None
    );
    assert_eq!(
        optional_birth_date("d", Some("2030-01-01"), today, &mut errors),
        None
    );
    assert_eq!(errors.len(), 2);
}

#[test]
fn required_text_is_trimmed_and_bounded() {
    let mut errors = Vec::new();
    assert_eq!(
        required_text("n", "  Ann  ", 10, &mut errors).as_deref(),
        Some("Ann")
    );
    assert_eq!(required_text("n", "   ", 10, &mut errors), None);
    assert_eq!(required_text("n", "abcdefghijk", 10, &mut errors), None);
}
