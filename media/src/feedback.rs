//! What a receiver remembers to write its feedback: when each transport-wide sequence
//! number arrived ([`TwccReceiver`]) and which packets of a stream are missing
//! ([`NackTracker`]). Times are the caller's `Instant`s; nothing here reads a clock.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::rtcp::{Arrival, TransportFeedback};

/// The most packets one transport-wide feedback reports; more wait for the next.
const MOST_PER_FEEDBACK: u64 = 1_000;
/// 250 µs: the unit of a feedback's receive deltas.
const TICK_MICROS: i64 = 250;
/// 64 ms: the unit of a feedback's reference time.
const REFERENCE_MICROS: i64 = 64_000;

/// Most sequence numbers waiting to be reported at once (a window of their arrivals).
/// The SFU reports every 100 ms, a few hundred packets at most; a jump past this
/// (a restarted sender, or a forged number) gives up the oldest rather than grow.
const MOST_UNREPORTED: u64 = 1 << 14;

/// Arrival times of transport-wide sequence numbers, until they are reported.
///
/// They are kept in a window indexed by extended sequence number, not a map: numbers
/// arrive nearly in order and are reported in order, so each packet costs a slot write
/// rather than a tree insert and its allocation (the map was 3% of the SFU's time at
/// 128 visits, `docs/sfu.md`).
#[derive(Debug, Default)]
pub struct TwccReceiver {
    /// Arrival by extended sequence number, from `start` on; `None` for one not seen.
    /// Its last slot is always one that was seen.
    unreported: VecDeque<Option<Instant>>,
    /// The extended sequence number of `unreported`'s first slot.
    start: u64,
    /// Slots of `unreported` that hold an arrival.
    arrived: usize,
    /// The highest extended sequence number seen.
    highest: Option<u64>,
    /// The first report's base: the reports run on from it without a gap.
    next_base: Option<u64>,
    /// Time zero of the reference times.
    epoch: Option<Instant>,
    /// Feedback packets written.
    count: u8,
}

impl TwccReceiver {
    /// Records that the packet with transport-wide sequence number `seq` arrived `at`.
    /// A packet reported lost already is not reported again.
    pub fn record(&mut self, seq: u16, at: Instant) {
        let extended = match self.highest {
            None => u64::from(seq),
            Some(highest) => {
                let delta = i64::from(seq.wrapping_sub(highest as u16) as i16);
                highest.saturating_add_signed(delta)
            }
        };
        if self.next_base.is_some_and(|base| extended < base) {
            return;
        }
        if self.unreported.is_empty() {
            self.start = extended;
        } else if extended < self.start {
            // Reordered ahead of the first report: the window grows at its front.
            let grow = self.start - extended;
            if grow + self.unreported.len() as u64 > MOST_UNREPORTED {
                return;
            }
            for _ in 0..grow {
                self.unreported.push_front(None);
            }
            self.start = extended;
        }
        self.highest = Some(self.highest.map_or(extended, |h| h.max(extended)));
        self.epoch.get_or_insert(at);
        if extended - self.start >= MOST_UNREPORTED {
            self.give_up_before(extended + 1 - MOST_UNREPORTED);
        }
        let index = (extended - self.start) as usize;
        if index >= self.unreported.len() {
            self.unreported.resize(index + 1, None);
        }
        if self.unreported[index].replace(at).is_none() {
            self.arrived += 1;
        }
    }

    /// Drops what waits below `seq` unreported, and reports on from `seq` at the
    /// earliest.
    fn give_up_before(&mut self, seq: u64) {
        while self.start < seq {
            match self.unreported.pop_front() {
                Some(slot) => self.arrived -= usize::from(slot.is_some()),
                None => break,
            }
            self.start += 1;
        }
        self.start = self.start.max(seq);
        self.next_base = Some(self.next_base.map_or(seq, |base| base.max(seq)));
    }

    /// Whether there is something to report.
    pub fn has_unreported(&self) -> bool {
        self.arrived > 0
    }

    /// The arrival of extended sequence number `seq`, if it is waiting to be reported.
    fn arrival(&self, seq: u64) -> Option<Instant> {
        let index = seq.checked_sub(self.start)?;
        *self.unreported.get(usize::try_from(index).ok()?)?
    }

    /// Appends one feedback packet for what arrived since the last (from the last
    /// report's end to the highest sequence number, gaps reported as lost); false when
    /// there was nothing to report.
    pub fn write_feedback(&mut self, sender_ssrc: u32, media_ssrc: u32, out: &mut Vec<u8>) -> bool {
        let Some(epoch) = self.epoch.filter(|_| self.arrived > 0) else {
            return false;
        };
        let first = self.start + self.unreported.iter().take_while(|a| a.is_none()).count() as u64;
        // A gap longer than one report can say is given up: a report must hold an
        // arrival, and one from the old base would hold none, then and every time after.
        let base = self
            .next_base
            .filter(|base| first < base + MOST_PER_FEEDBACK)
            .unwrap_or(first);
        // The last slot holds an arrival (see `unreported`).
        let newest = self.start + self.unreported.len() as u64 - 1;
        let last = newest.min(base + MOST_PER_FEEDBACK - 1);
        let Some(first_arrival) = (base.max(first)..=last).find_map(|seq| self.arrival(seq)) else {
            return false;
        };
        let micros = |at: Instant| at.saturating_duration_since(epoch).as_micros() as i64;
        let reference = micros(first_arrival) / REFERENCE_MICROS;
        let mut previous_ticks = reference * REFERENCE_MICROS / TICK_MICROS;
        let mut arrivals = Vec::with_capacity((last - base + 1) as usize);
        for seq in base..=last {
            match self.arrival(seq) {
                Some(at) => {
                    let ticks = micros(at) / TICK_MICROS;
                    arrivals.push(Arrival::After(ticks - previous_ticks));
                    previous_ticks = ticks;
                }
                None => arrivals.push(Arrival::Lost),
            }
        }
        TransportFeedback {
            sender_ssrc,
            media_ssrc,
            base_seq: base as u16,
            reference_time: reference as u32,
            count: self.count,
            arrivals: &arrivals,
        }
        .write(out);
        self.count = self.count.wrapping_add(1);
        self.give_up_before(last + 1);
        true
    }
}

/// How often a missing packet is asked for before it is given up.
const NACK_TRIES: u8 = 3;
/// The longest gap asked for: a larger one is a restart, or a loss a keyframe repairs.
const LARGEST_GAP: u64 = 256;
/// Missing packets remembered at most.
const MOST_MISSING: usize = 512;

/// Sequence numbers below the highest whose arrival is remembered (a bit each).
const RECEIVED_WINDOW: u64 = 1_024;

/// The packets of one stream that are missing, and when each was last asked for; and
/// which of the last [`RECEIVED_WINDOW`] arrived, so a repair of one that already did
/// is known for the duplicate it is.
#[derive(Debug, Default)]
pub struct NackTracker {
    highest: Option<u64>,
    /// Extended sequence number → (tries so far, when to ask next).
    missing: BTreeMap<u64, (u8, Instant)>,
    /// Bit `seq % RECEIVED_WINDOW`: `seq` arrived (for `seq` within the window).
    received: [u64; (RECEIVED_WINDOW / 64) as usize],
}

impl NackTracker {
    /// Records a received packet's extended sequence number: fills its slot if it was
    /// missing, and marks the ones it skipped as missing, to be asked for from `now`.
    pub fn record(&mut self, seq: u64, now: Instant) {
        match self.highest {
            Some(highest) if seq <= highest => {
                self.missing.remove(&seq);
            }
            Some(highest) if seq - highest <= LARGEST_GAP => {
                for gap in highest + 1..seq {
                    self.missing.insert(gap, (0, now));
                    self.set_received(gap, false);
                }
                self.highest = Some(seq);
            }
            _ => {
                self.missing.clear();
                self.received = Default::default();
                self.highest = Some(seq);
            }
        }
        if self.highest.is_some_and(|h| h - seq < RECEIVED_WINDOW) {
            self.set_received(seq, true);
        }
        while self.missing.len() > MOST_MISSING {
            self.missing.pop_first();
        }
    }

    /// The sequence numbers (16 bits, ascending) to ask for now; each is asked again
    /// `retry` later, [`NACK_TRIES`] times in all.
    pub fn due(&mut self, now: Instant, retry: Duration) -> Vec<u16> {
        let mut due = Vec::new();
        self.missing.retain(|seq, (tries, at)| {
            if *at > now {
                return true;
            }
            due.push(*seq as u16);
            *tries += 1;
            *at = now + retry;
            *tries < NACK_TRIES
        });
        due
    }

    /// Whether `seq` (extended) already arrived. Unknown (false) below the window.
    pub fn received(&self, seq: u64) -> bool {
        let (word, bit) = Self::slot(seq);
        self.highest
            .is_some_and(|h| seq <= h && h - seq < RECEIVED_WINDOW)
            && self.received[word] & bit != 0
    }

    fn slot(seq: u64) -> (usize, u64) {
        let at = seq % RECEIVED_WINDOW;
        ((at / 64) as usize, 1 << (at % 64))
    }

    fn set_received(&mut self, seq: u64, arrived: bool) {
        let (word, bit) = Self::slot(seq);
        if arrived {
            self.received[word] |= bit;
        } else {
            self.received[word] &= !bit;
        }
    }

    /// Whether any packet is still missing.
    pub fn has_missing(&self) -> bool {
        !self.missing.is_empty()
    }
}

#[cfg(test)]
#[path = "feedback_test.rs"]
mod tests;
