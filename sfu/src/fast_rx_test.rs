use super::*;

#[test]
fn every_publisher_ticks_on_one_grid_strictly_after_now() {
    let origin = Instant::now();
    let step = Duration::from_millis(20);
    let at = |ms| origin + Duration::from_millis(ms);
    assert_eq!(tick_after(origin, at(0), step), at(20));
    assert_eq!(tick_after(origin, at(19), step), at(20));
    assert_eq!(tick_after(origin, at(20), step), at(40));
    assert_eq!(tick_after(origin, at(1_001), step), at(1_020));
}
