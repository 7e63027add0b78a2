//! Unit tests of `throttle`.

use super::*;

const ATTACKER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9)));
const CLINIC: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 4)));

fn throttle() -> Arc<LoginThrottle> {
    Arc::new(LoginThrottle::new(ThrottlePolicy {
        free_per_pair: 3,
        free_per_source: 10,
        free_per_account: 6,
        window: Duration::from_secs(900),
        max_delay: Duration::from_secs(60),
    }))
}

#[test]
fn parallel_attempts_are_counted_before_their_verdict_so_only_the_allowance_gets_through() {
    let throttle = throttle();
    let t0 = Instant::now();
    let admitted: Vec<_> = (0..40)
        .filter_map(|_| throttle.begin("a@x.test", ATTACKER, t0).ok())
        .collect();
    assert_eq!(
        admitted.len(),
        3,
        "free_per_pair attempts; no more while they run"
    );
    for attempt in admitted {
        attempt.failed();
    }
    assert!(throttle.begin("a@x.test", ATTACKER, t0).is_err());
}

#[test]
fn past_the_allowance_attempts_are_spaced_by_a_growing_delay_capped_at_a_minute() {
    let throttle = throttle();
    let mut now = Instant::now();
    for _ in 0..3 {
        throttle.begin("a@x.test", ATTACKER, now).unwrap().failed();
    }
    // The 3rd failure sets a 1 s delay before the next attempt, the 4th 2 s, then 4, 8 ...
    let mut waits = Vec::new();
    for _ in 0..9 {
        let attempt = loop {
            match throttle.begin("a@x.test", ATTACKER, now) {
                Ok(attempt) => break attempt,
                Err(secs) => {
                    waits.push(secs);
                    now += Duration::from_secs(secs);
                }
            }
        };
        attempt.failed();
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
}

#[test]
fn the_clinician_signs_in_from_their_own_address_while_an_attacker_is_slowed() {
    let throttle = throttle();
    let t0 = Instant::now();
    for _ in 0..3 {
        throttle.begin("dr@x.test", ATTACKER, t0).unwrap().failed();
    }
    assert!(throttle.begin("dr@x.test", ATTACKER, t0).is_err());
    let attempt = throttle.begin("dr@x.test", CLINIC, t0);
    assert!(attempt.is_ok(), "no lockout for the account's owner");
    attempt.unwrap().succeeded();
}

#[test]
fn spraying_one_password_over_many_accounts_is_slowed_per_source() {
    let throttle = throttle();
    let t0 = Instant::now();
    let mut admitted = 0;
    for n in 0..50 {
        if let Ok(attempt) = throttle.begin(&format!("user{n}@x.test"), ATTACKER, t0) {
            admitted += 1;
            attempt.failed();
        }
    }
    assert_eq!(admitted, 10, "free_per_source, then one per delay");
    assert!(throttle.begin("someone@x.test", CLINIC, t0).is_ok());
}

#[test]
fn a_success_clears_the_accounts_counters_and_failures_expire_with_the_window() {
    let throttle = throttle();
    let t0 = Instant::now();
    for _ in 0..2 {
        throttle.begin("a@x.test", CLINIC, t0).unwrap().failed();
    }
    throttle.begin("a@x.test", CLINIC, t0).unwrap().succeeded();
    for _ in 0..3 {
        throttle.begin("a@x.test", CLINIC, t0).unwrap().failed();
    }
    assert!(throttle.begin("a@x.test", CLINIC, t0).is_err());
    let later = t0 + Duration::from_secs(901);
    assert!(throttle.begin("a@x.test", CLINIC, later).is_ok());
}

#[test]
fn an_attempt_abandoned_before_its_verdict_counts_as_nothing() {
    let throttle = throttle();
    let t0 = Instant::now();
    for _ in 0..10 {
        drop(throttle.begin("a@x.test", CLINIC, t0).unwrap());
    }
    assert!(throttle.begin("a@x.test", CLINIC, t0).is_ok());
}
