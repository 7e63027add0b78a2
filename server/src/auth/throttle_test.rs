//! Unit tests of `throttle`.

use super::*;

#[test]
fn an_account_locks_after_the_allowed_failures_and_unlocks_after_the_window() {
    let throttle = LoginThrottle::new(3, Duration::from_secs(60));
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(throttle.check("A@x.test", t0).is_ok());
        throttle.record_failure("a@x.test", t0);
    }
    assert_eq!(
        throttle.check("a@x.test", t0 + Duration::from_secs(10)),
        Err(50)
    );
    assert!(throttle.check("other@x.test", t0).is_ok());
    assert!(
        throttle
            .check("a@x.test", t0 + Duration::from_secs(61))
            .is_ok()
    );
}

#[test]
fn a_success_clears_the_failures() {
    let throttle = LoginThrottle::new(2, Duration::from_secs(60));
    let t0 = Instant::now();
    throttle.record_failure("a@x.test", t0);
    throttle.record_success("a@x.test");
    throttle.record_failure("a@x.test", t0);
    assert!(throttle.check("a@x.test", t0).is_ok());
}
