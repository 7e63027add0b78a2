//! Password hashing with argon2id, off the async runtime (hashing takes tens of ms).

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Minimum length of a new password.
pub const MIN_PASSWORD_LEN: usize = 12;

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    // invariant: constant parameters within argon2's documented bounds; never input.
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid"); // invariant
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$...`), unbounded: for seeding and
/// tests. Requests go through [`PasswordChecks`].
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("password hashing task")?
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::rand_core::OsRng;
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Verifies a password against a stored PHC string. `None` as the hash still spends the
/// time of a verification, so unknown emails and wrong passwords take as long.
/// Unbounded; requests go through [`PasswordChecks`].
pub async fn verify_password(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(&password, stored))
        .await
        .context("password verification task")?
}

fn verify_blocking(password: &str, stored: Option<String>) -> anyhow::Result<bool> {
    let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
    let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    let ok = hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    Ok(ok && stored != DUMMY_HASH)
}

/// The bound on concurrent password hashing. Each argon2 check takes 19 MiB and a
/// blocking thread for tens of milliseconds; unbounded, a few hundred parallel sign-ins
/// (unknown emails included: they cost a check too) exhaust memory and threads for the
/// whole process. At most `concurrent` checks run; at most `max_waiting` more wait; any
/// further request is refused at once as busy, before it costs anything.
#[derive(Debug)]
pub struct PasswordChecks {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    capacity: usize,
    running: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

/// Too many password checks are running or waiting; try again in a moment.
#[derive(Debug, thiserror::Error)]
#[error("password checks are saturated")]
pub struct Busy;

impl From<Busy> for crate::error::Error {
    fn from(_: Busy) -> Self {
        crate::error::Error::Busy
    }
}

impl PasswordChecks {
    /// At most `concurrent` checks at once and `max_waiting` in line.
    pub fn new(concurrent: usize, max_waiting: usize) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(concurrent.max(1)),
            waiting: 0.into(),
            capacity: concurrent.max(1) + max_waiting,
            running: 0.into(),
            peak: 0.into(),
        }
    }

    /// A bound sized for this machine: two checks per core (at most 16), 64 in line.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new((cores * 2).min(16), 64)
    }

    /// The most checks that ever ran at once (for tests and metrics).
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `check` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<Result<T, Busy>> {
        use std::sync::atomic::Ordering::SeqCst;
        // `waiting` counts every request from here until its check is done.
        if self.waiting.fetch_add(1, SeqCst) >= self.capacity {
            self.waiting.fetch_sub(1, SeqCst);
            return Ok(Err(Busy));
        }
        let permit = self.permits.acquire().await;
        let result = match permit {
            Ok(_permit) => {
                let now_running = self.running.fetch_add(1, SeqCst) + 1;
                self.peak.fetch_max(now_running, SeqCst);
                let result = tokio::task::spawn_blocking(check)
                    .await
                    .context("password check task");
                self.running.fetch_sub(1, SeqCst);
                result
            }
            Err(closed) => Err(anyhow::Error::new(closed).context("password check permits")),
        };
        self.waiting.fetch_sub(1, SeqCst);
        Ok(Ok(result??))
    }

    /// [`verify_password`], bounded.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> anyhow::Result<Result<bool, Busy>> {
        self.run(move || verify_blocking(&password, stored)).await
    }

    /// [`hash_password`], bounded.
    pub async fn hash(&self, password: String) -> anyhow::Result<Result<String, Busy>> {
        self.run(move || hash_blocking(&password)).await
    }
}

/// A valid argon2id hash of a random string, verified against when the account is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K2fuVbPAPdVrzrtF3vYf3LqkSpEOBUVIAfrQO0Y5+8A";

#[cfg(test)]
#[path = "password_test.rs"]
mod tests;
