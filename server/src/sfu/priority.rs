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
//! So the general runtime's threads run at [`GENERAL_NICE`]: they still get every
//! cycle the shards leave, and the web portal stays responsive, but a shard with
//! datagrams waiting runs first. Raising the shards' own priority would need
//! `CAP_SYS_NICE`; lowering the others needs nothing. A thread inherits its creator's
//! niceness, so the shards are started from the main thread, which keeps the
//! process's (`startup.rs`).

/// The niceness of the server's general threads (0 is the default, 19 the lowest).
pub const GENERAL_NICE: i32 = 10;

/// Lowers the calling thread to [`GENERAL_NICE`] (for the general runtime's
/// `on_thread_start`). On Linux, niceness belongs to a thread. Elsewhere, or if the
/// kernel refuses, nothing changes.
pub fn yield_to_media() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers; `who` 0 is the calling thread on
        // Linux (its `PRIO_PROCESS` acts on a thread id).
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, GENERAL_NICE) };
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
    use super::{GENERAL_NICE, current_nice, yield_to_media};

    #[test]
    #[cfg(target_os = "linux")]
    fn a_general_thread_yields_and_the_thread_that_starts_shards_does_not() {
        let before = current_nice();
        let general = std::thread::spawn(|| {
            yield_to_media();
            current_nice()
        })
        .join()
        .expect("the thread ran");
        assert_eq!(general, GENERAL_NICE.max(before));
        assert_eq!(current_nice(), before, "only the calling thread is lowered");
    }
}
