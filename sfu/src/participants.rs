//! The core's participants, with a queue of when each one's timers are next due.
//!
//! A shard turn used to work out the next timeout over every participant (its str0m
//! peers, the feedback of its receive path, the pacers of its send path), and a timer
//! pass visited every participant to see which were due. That was linear in the
//! participants twice per turn: at 128 visits, 9% of the SFU's time went to it (the
//! profile in `docs/sfu.md`). Here each participant's next timeout is kept in an ordered
//! queue, and only a participant that was handed out mutably can have changed it. So
//! [`Participants::get_mut`] and [`Participants::values_mut`] mark what they hand out
//! as *touched*, and [`Participants::reschedule`] works out the next timeout of the
//! touched ones alone. There is no `DerefMut`: a change that bypassed the marking would
//! not compile, so no timer can be forgotten.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::core::ConnId;
use crate::participant::Participant;

/// Participants whose timers one turn serves, at most.
///
/// The publishers' feedback runs on one grid (`fast_rx.rs`), so every 100 ms all of
/// them are due at once: at 128 visits that turn took 1-2 ms, ten times a second, and
/// what arrived meanwhile waited in the socket (the part of the SFU-added p99 the SFU
/// controls; the host's own stalls are the rest, docs/sfu.md). Served sixteen at a time, with the socket read between
/// (`server/src/sfu/shard.rs`), a packet waits behind one short turn at most.
pub(crate) const MOST_DUE_PER_TURN: usize = 16;

/// The participants by connection id (ordered, so runs are reproducible), with their
/// timers (see the module docs).
#[derive(Default)]
pub(crate) struct Participants {
    map: BTreeMap<ConnId, Participant>,
    /// Handed out mutably since the last [`Participants::reschedule`].
    touched: BTreeSet<ConnId>,
    /// Each participant's next timeout as queued.
    queued: BTreeMap<ConnId, Instant>,
    /// The same, ordered by time.
    queue: BTreeSet<(Instant, ConnId)>,
    /// The last [`Participants::due`] left some due (it took its limit).
    left_due: bool,
}

impl std::fmt::Debug for Participants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participants")
            .field("count", &self.map.len())
            .field("timers", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Participants {
    type Target = BTreeMap<ConnId, Participant>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl Participants {
    /// One participant, to change: its timers are worked out again afterwards.
    pub(crate) fn get_mut(&mut self, conn: &ConnId) -> Option<&mut Participant> {
        let participant = self.map.get_mut(conn)?;
        self.touched.insert(*conn);
        Some(participant)
    }

    /// Every participant, to change (all are rescheduled afterwards).
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Participant> {
        self.touched.extend(self.map.keys().copied());
        self.map.values_mut()
    }

    /// Adds (or replaces) a participant.
    pub(crate) fn insert(&mut self, conn: ConnId, participant: Participant) {
        self.map.insert(conn, participant);
        self.touched.insert(conn);
    }

    /// Removes a participant and its timers.
    pub(crate) fn remove(&mut self, conn: &ConnId) -> Option<Participant> {
        let participant = self.map.remove(conn)?;
        self.touched.remove(conn);
        if let Some(at) = self.queued.remove(conn) {
            self.queue.remove(&(at, *conn));
        }
        Some(participant)
    }

    /// Works out the next timeout of every participant touched since the last call.
    pub(crate) fn reschedule(&mut self) {
        for conn in std::mem::take(&mut self.touched) {
            let next = self.map.get(&conn).and_then(Participant::next_timeout);
            let queued = self.queued.get(&conn).copied();
            if next == queued {
                continue;
            }
            if let Some(at) = queued {
                self.queue.remove(&(at, conn));
                self.queued.remove(&conn);
            }
            if let Some(at) = next {
                self.queue.insert((at, conn));
                self.queued.insert(conn, at);
            }
        }
    }

    /// The soonest timeout of any participant: the queue's first, or a touched one's
    /// not yet rescheduled.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let touched = self
            .touched
            .iter()
            .filter_map(|conn| self.map.get(conn)?.next_timeout());
        self.queue
            .first()
            .map(|(at, _)| *at)
            .into_iter()
            .chain(touched)
            .min()
    }

    /// The participants with a timer due at `now`, soonest first: at most
    /// [`MOST_DUE_PER_TURN`] (the rest stay due, for the next turn).
    pub(crate) fn due(&mut self, now: Instant) -> Vec<ConnId> {
        let queued = self
            .queue
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, conn)| *conn);
        let touched = self.touched.iter().copied().filter(|conn| {
            self.map
                .get(conn)
                .and_then(Participant::next_timeout)
                .is_some_and(|at| at <= now)
        });
        // Taken lazily, up to the limit: a turn costs its share, not a pass over all
        // that are due (which, with the limit, was quadratic in them).
        let mut due = Vec::with_capacity(MOST_DUE_PER_TURN);
        let mut left_due = false;
        for conn in queued.chain(touched) {
            if due.len() == MOST_DUE_PER_TURN {
                left_due = true;
                break;
            }
            if !due.contains(&conn) {
                due.push(conn);
            }
        }
        self.left_due = left_due;
        due
    }
}

impl crate::core::Core {
    /// Whether the last [`crate::core::Core::handle_timeout`] left participants due
    /// (it served its limit): the driver calls it again soon, reading its socket
    /// between, rather than waiting for its timer.
    pub fn timers_left_due(&self) -> bool {
        self.participants.left_due
    }
}

#[cfg(test)]
impl Participants {
    /// Participants whose queued timeout differs from what they would work out now
    /// (none, right after a [`Participants::reschedule`]).
    pub(crate) fn mis_scheduled(&self) -> Vec<ConnId> {
        self.map
            .iter()
            .filter(|(conn, p)| self.queued.get(conn).copied() != p.next_timeout())
            .map(|(conn, _)| *conn)
            .collect()
    }
}
