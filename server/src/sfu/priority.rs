//! The SFU's shards come first on a busy CPU.
//!
//! Each shard is a thread of its own (`shard.rs`), but it shares its core with the
//! server's general runtime: HTTP, the `/rtc` sessions, the database, password hashing.
//! When one of those threads wakes, the kernel's fair scheduler may preempt the shard
//! at once, and the shard's datagrams wait in its socket meanwhile. Measured with
//! `./scripts/bench-sfu` at 64 visits on one core (2026-12-07): the shard was preempted
//! about 140 times a second, and a forwarded packet's p99 time in the SFU, counted
//! from the kernel's receive time, was 9 to 12 ms; with the general threads at nice
//! 10 it was 3.9 ms, and with them on another core 3.0 ms.
//!
//! So on a dedicated media host (`server sfu`) the general runtime's threads run at
//! [`MEDIA_HOST_NICE`]: they still get every cycle the shards leave, but a shard with
//! datagrams waiting runs first. Raising the shards' own priority would need
//! `CAP_SYS_NICE`; lowering the others needs nothing. A thread inherits its creator's
//! niceness, so the shards are started from the main thread, which keeps the
//! process's (`startup.rs`).
//!
//! The full application keeps them at 0 by default: there the same threads serve the
//! clinicians' portal, and on a machine shared with other busy processes (the browser
//! suite's Chromium, in the tests), nice 10 left the portal's signaling waiting long
//! enough to stall video (two end-to-end tests failed under the suite's load, and
//! passed alone). `BEDSIDE_GENERAL_NICE` (0 to 19) sets it either way.

/// The general threads' niceness on a dedicated media host (0 is the default, 19 the
/// lowest).
pub const MEDIA_HOST_NICE: i32 = 10;

/// The niceness for the general runtime's threads: `BEDSIDE_GENERAL_NICE` if set,
/// else [`MEDIA_HOST_NICE`] on a dedicated media host and 0 otherwise.
pub fn general_nice(media_host: bool) -> anyhow::Result<i32> {
    match std::env::var("BEDSIDE_GENERAL_NICE") {
        Ok(text) => match text.trim().parse::<i32>() {
            Ok(nice) if (0..=19).contains(&nice) => Ok(nice),
            _ => anyhow::bail!("BEDSIDE_GENERAL_NICE must be a number from 0 to 19"),
        },
        Err(_) => Ok(if media_host { MEDIA_HOST_NICE } else { 0 }),
    }
}

/// Lowers the calling thread to `nice` (for the general runtime's `on_thread_start`;
/// 0 leaves it). On Linux, niceness belongs to a thread. Elsewhere, or if the kernel
/// refuses, nothing changes.
pub fn lower_this_thread(nice: i32) {
    if nice <= 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers; `who` 0 is the calling thread on
        // Linux (its `PRIO_PROCESS` acts on a thread id).
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
        if result != 0 {
            tracing::debug!("the server's thread priority could not be lowered");
        }
    }
}

/// The calling thread's niceness (Linux; 0 elsewhere).
pub fn current_nice() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: as above. -1 is also a valid niceness; errno tells them apart, and
        // the only error for the calling thread is none.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::{MEDIA_HOST_NICE, current_nice, lower_this_thread};

    #[test]
    #[cfg(target_os = "linux")]
    fn a_general_thread_yields_and_the_thread_that_starts_shards_does_not() {
        let before = current_nice();
        let general = std::thread::spawn(|| {
            lower_this_thread(MEDIA_HOST_NICE);
            current_nice()
        })
        .join()
        .expect("the thread ran");
        assert_eq!(general, MEDIA_HOST_NICE.max(before));
        assert_eq!(current_nice(), before, "only the calling thread is lowered");
    }
}
