//! What to do after losing the server, and when: LiveKit's policy.
//!
//! Resume first (reopen the socket with the participant sid; the server answers
//! `ReconnectResponse` and ICE restarts), unless the server said otherwise or resuming
//! already failed; then a full rejoin that republishes every track; never retry a
//! refused token. Retry delays follow LiveKit's `DefaultReconnectPolicy`: 0, 300, 1200,
//! 2700, 4800 ms, then 7000 ms five times, with up to a second of jitter from the third
//! try; after ten tries the room is given up.

use crate::proto;

/// Why the session was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossCause {
    /// The socket closed or errored.
    SocketClosed,
    /// No message within the ping timeout.
    PingTimeout,
    /// The media transport failed (ICE disconnected too long).
    MediaFailed,
    /// The server sent `leave`, with this action.
    ServerLeave(proto::leave_request::Action),
    /// Resuming was tried and refused (or the resumed session never recovered).
    ResumeFailed,
    /// The token was refused (401/403 on reconnect): expired or revoked.
    Unauthorized,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Reopen the socket with `reconnect`/sid and restart ICE; nobody sees a leave.
    Resume,
    /// Leave, tear down, join again, republish.
    Rejoin,
    /// Give up: the participant is disconnected.
    Stop,
}

/// The decision for `cause`.
pub fn decide(cause: LossCause) -> Recovery {
    use proto::leave_request::Action;
    match cause {
        LossCause::SocketClosed | LossCause::PingTimeout => Recovery::Resume,
        LossCause::MediaFailed | LossCause::ResumeFailed => Recovery::Rejoin,
        LossCause::ServerLeave(Action::Resume) => Recovery::Resume,
        LossCause::ServerLeave(Action::Reconnect) => Recovery::Rejoin,
        LossCause::ServerLeave(Action::Disconnect) | LossCause::Unauthorized => Recovery::Stop,
    }
}

/// Retry delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Delay before each try, in ms.
    pub delays_ms: Vec<u64>,
    /// Largest jitter added, in ms.
    pub max_jitter_ms: u64,
    /// The first try (0-based) that gets jitter.
    pub jitter_from: usize,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        let mut delays_ms = vec![0, 300, 1200, 2700, 4800];
        delays_ms.extend([7000; 5]);
        Self {
            delays_ms,
            max_jitter_ms: 1000,
            jitter_from: 2,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before try `attempt` (0-based), with `jitter` in `[0, 1)` from the
    /// driver's random source; `None` once the tries are used up.
    pub fn delay_ms(&self, attempt: usize, jitter: f64) -> Option<u64> {
        let base = *self.delays_ms.get(attempt)?;
        let jitter = if attempt >= self.jitter_from {
            (jitter.clamp(0.0, 1.0) * self.max_jitter_ms as f64) as u64
        } else {
            0
        };
        Some(base + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::leave_request::Action;

    #[test]
    fn a_lost_socket_resumes_a_server_reconnect_rejoins_and_a_refused_token_stops() {
        assert_eq!(decide(LossCause::SocketClosed), Recovery::Resume);
        assert_eq!(decide(LossCause::PingTimeout), Recovery::Resume);
        assert_eq!(
            decide(LossCause::ServerLeave(Action::Resume)),
            Recovery::Resume
        );
        assert_eq!(
            decide(LossCause::ServerLeave(Action::Reconnect)),
            Recovery::Rejoin
        );
        assert_eq!(decide(LossCause::ResumeFailed), Recovery::Rejoin);
        assert_eq!(decide(LossCause::MediaFailed), Recovery::Rejoin);
        assert_eq!(
            decide(LossCause::ServerLeave(Action::Disconnect)),
            Recovery::Stop
        );
        assert_eq!(decide(LossCause::Unauthorized), Recovery::Stop);
    }

    #[test]
    fn retries_follow_livekits_delays_with_jitter_from_the_third_and_end_after_ten() {
        let policy = ReconnectPolicy::default();
        let plain: Vec<u64> = (0..10).map(|n| policy.delay_ms(n, 0.0).unwrap()).collect();
        assert_eq!(
            plain,
            [0, 300, 1200, 2700, 4800, 7000, 7000, 7000, 7000, 7000]
        );
        assert_eq!(
            policy.delay_ms(1, 0.99),
            Some(300),
            "no jitter on the second try"
        );
        assert_eq!(policy.delay_ms(2, 0.5), Some(1700));
        assert_eq!(policy.delay_ms(10, 0.0), None);
    }
}
