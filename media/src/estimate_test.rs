//! The estimate on simulated links: a sender paced at the estimate (up to what it
//! wants), a bottleneck with a queue or a policer without one, a receiver writing real
//! transport-wide feedback (`TwccReceiver`) that str0m's parser reads back, all on a
//! virtual clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use str0m::rtp::rtcp::Rtcp;

use super::LinkEstimator;
use crate::estimate_probe::Probe;
use crate::feedback::TwccReceiver;

const PACKET: usize = 1_200;
const TICK: Duration = Duration::from_millis(5);
const FEEDBACK_EVERY: Duration = Duration::from_millis(100);
const ONE_WAY: Duration = Duration::from_millis(20);

/// What the bottleneck does with a packet.
enum Bottleneck {
    /// Serves `bps` from a queue that drops what would wait longer than `limit`.
    Queue {
        bps: u64,
        limit: Duration,
        free_at: Option<Instant>,
    },
    /// Passes `bytes` in each whole second and drops what is over, as coturn's
    /// `--max-bps` does: a short burst passes whole, whatever its rate.
    EachSecond {
        bytes: u64,
        second: u64,
        used: u64,
        start: Option<Instant>,
    },
    /// Passes `bps` with a burst of `burst` bytes and drops the rest at once.
    Policer {
        bps: u64,
        burst: f64,
        tokens: f64,
        at: Option<Instant>,
    },
}

impl Bottleneck {
    fn queue(bps: u64) -> Self {
        Self::Queue {
            bps,
            limit: Duration::from_millis(400),
            free_at: None,
        }
    }

    fn policer(bps: u64) -> Self {
        let burst = bps as f64 / 8.0 / 10.0;
        Self::Policer {
            bps,
            burst,
            tokens: burst,
            at: None,
        }
    }

    fn each_second(bps: u64) -> Self {
        Self::EachSecond {
            bytes: bps / 8,
            second: 0,
            used: 0,
            start: None,
        }
    }

    fn set_bps(&mut self, rate: u64) {
        match self {
            Self::Queue { bps, .. } | Self::Policer { bps, .. } => *bps = rate,
            Self::EachSecond { bytes, .. } => *bytes = rate / 8,
        }
    }

    /// When a packet sent `now` reaches the receiver, if it does.
    fn carry(&mut self, now: Instant, size: usize) -> Option<Instant> {
        match self {
            Self::Queue {
                bps,
                limit,
                free_at,
            } => {
                let start = free_at.map_or(now, |f| f.max(now));
                if start - now > *limit {
                    return None;
                }
                let done = start + Duration::from_secs_f64(size as f64 * 8.0 / *bps as f64);
                *free_at = Some(done);
                Some(done + ONE_WAY)
            }
            Self::EachSecond {
                bytes,
                second,
                used,
                start,
            } => {
                let this_second = (now - *start.get_or_insert(now)).as_secs();
                if this_second != *second {
                    (*second, *used) = (this_second, 0);
                }
                if *used + size as u64 > *bytes {
                    return None;
                }
                *used += size as u64;
                Some(now + ONE_WAY)
            }
            Self::Policer {
                bps,
                burst,
                tokens,
                at,
            } => {
                let elapsed = at.map_or(0.0, |a| (now - a).as_secs_f64());
                *at = Some(now);
                *tokens = (*tokens + elapsed * *bps as f64 / 8.0).min(*burst);
                if *tokens < size as f64 {
                    return None;
                }
                *tokens -= size as f64;
                Some(now + ONE_WAY)
            }
        }
    }
}

/// A sender that wants `wanted_bps`, its link, and its receiver.
struct Call {
    start: Instant,
    now: Instant,
    estimator: LinkEstimator,
    link: Bottleneck,
    wanted_bps: u64,
    seq: u64,
    budget: f64,
    probing: Option<(Probe, Instant)>,
    in_flight: VecDeque<(Instant, u64)>,
    receiver: TwccReceiver,
    feedback_due: Instant,
    feedback_in_flight: VecDeque<(Instant, Vec<u8>)>,
    sent_bytes: u64,
    lost: u64,
    /// The longest a packet waited in the queue over the last second.
    worst_wait: Duration,
}

impl Call {
    fn new(link: Bottleneck, wanted_bps: u64) -> Self {
        let start = Instant::now();
        Self {
            start,
            now: start,
            estimator: LinkEstimator::new(start, 300_000, 30_000, 20_000_000),
            link,
            wanted_bps,
            seq: 0,
            budget: 0.0,
            probing: None,
            in_flight: VecDeque::new(),
            receiver: TwccReceiver::default(),
            feedback_due: start + FEEDBACK_EVERY,
            feedback_in_flight: VecDeque::new(),
            sent_bytes: 0,
            lost: 0,
            worst_wait: Duration::ZERO,
        }
    }

    /// Runs until `seconds` after the start.
    fn run_until(&mut self, seconds: f64) {
        let end = self.start + Duration::from_secs_f64(seconds);
        while self.now < end {
            self.now += TICK;
            self.send();
            self.receive();
            self.deliver_feedback();
        }
    }

    /// Sends at the estimate (up to what it wants), or at a probe's rate while one
    /// runs, its packets marked with the probe's cluster.
    fn send(&mut self) {
        if self.probing.is_some_and(|(_, until)| self.now >= until) {
            self.probing = None;
        }
        if self.probing.is_none()
            && let Some(probe) = self.estimator.probe_due(self.now, self.wanted_bps)
        {
            self.probing = Some((probe, self.now + probe.span(PACKET)));
        }
        let rate = match self.probing {
            Some((probe, _)) => probe.bps,
            None => self.estimator.estimate_bps().min(self.wanted_bps),
        };
        self.budget += rate as f64 / 8.0 * TICK.as_secs_f64();
        while self.budget >= PACKET as f64 {
            self.budget -= PACKET as f64;
            self.seq += 1;
            match self.probing {
                Some((probe, _)) => {
                    self.estimator
                        .sent_probe(self.seq, self.now, PACKET, probe.cluster)
                }
                None => self.estimator.sent(self.seq, self.now, PACKET),
            }
            self.sent_bytes += PACKET as u64;
            match self.link.carry(self.now, PACKET) {
                Some(arrival) => {
                    let wait = arrival - self.now - ONE_WAY;
                    self.worst_wait = self.worst_wait.max(wait);
                    self.in_flight.push_back((arrival, self.seq));
                }
                None => self.lost += 1,
            }
        }
    }

    fn receive(&mut self) {
        while let Some(&(arrival, seq)) = self.in_flight.front() {
            if arrival > self.now {
                break;
            }
            self.in_flight.pop_front();
            self.receiver.record(seq as u16, arrival);
        }
        if self.now >= self.feedback_due {
            self.feedback_due += FEEDBACK_EVERY;
            let mut out = Vec::new();
            if self.receiver.write_feedback(1, 2, &mut out) {
                self.feedback_in_flight.push_back((self.now + ONE_WAY, out));
            }
        }
    }

    fn deliver_feedback(&mut self) {
        while let Some((at, _)) = self.feedback_in_flight.front() {
            if *at > self.now {
                break;
            }
            let (_, bytes) = self.feedback_in_flight.pop_front().expect("front");
            let Ok(Rtcp::Twcc(twcc)) = Rtcp::try_from(&bytes[..]) else {
                panic!("the receiver wrote transport-wide feedback");
            };
            self.estimator.feedback(self.now, twcc);
        }
    }

    fn estimate_kbps(&self) -> u64 {
        self.estimator.estimate_bps() / 1000
    }

    fn reset_worst_wait(&mut self) {
        self.worst_wait = Duration::ZERO;
    }
}

#[test]
fn the_estimate_climbs_to_what_a_wide_link_carries() {
    let mut call = Call::new(Bottleneck::queue(5_000_000), 2_500_000);
    call.run_until(10.0);
    assert!(
        call.estimate_kbps() >= 2_200,
        "estimate {} kbit/s",
        call.estimate_kbps()
    );
    call.reset_worst_wait();
    call.run_until(15.0);
    assert!(
        call.worst_wait < Duration::from_millis(20),
        "queued {:?}",
        call.worst_wait
    );
    assert_eq!(call.lost, 0);
}

#[test]
fn the_estimate_settles_under_a_narrow_links_capacity_without_filling_its_queue() {
    let mut call = Call::new(Bottleneck::queue(1_000_000), 5_000_000);
    call.run_until(10.0);
    call.reset_worst_wait();
    call.run_until(20.0);
    let kbps = call.estimate_kbps();
    assert!(
        (600..=1_150).contains(&kbps),
        "estimate {kbps} kbit/s on a 1 Mbit/s link"
    );
    assert!(
        call.worst_wait < Duration::from_millis(250),
        "queued {:?}",
        call.worst_wait
    );
}

#[test]
fn the_estimate_follows_a_link_that_narrows() {
    let mut call = Call::new(Bottleneck::queue(4_000_000), 3_000_000);
    call.run_until(12.0);
    assert!(
        call.estimate_kbps() >= 2_500,
        "estimate {} kbit/s before",
        call.estimate_kbps()
    );
    call.link.set_bps(800_000);
    call.run_until(14.0);
    assert!(
        call.estimate_kbps() <= 850,
        "estimate {} kbit/s 2 s after",
        call.estimate_kbps()
    );
    call.run_until(20.0);
    call.reset_worst_wait();
    call.run_until(25.0);
    let kbps = call.estimate_kbps();
    assert!(
        (450..=900).contains(&kbps),
        "estimate {kbps} kbit/s on 800 kbit/s"
    );
    assert!(
        call.worst_wait < Duration::from_millis(250),
        "queued {:?}",
        call.worst_wait
    );
}

#[test]
fn a_policer_that_never_queues_is_found_by_its_losses() {
    let mut call = Call::new(Bottleneck::policer(500_000), 3_000_000);
    call.run_until(5.0);
    let lost_before = call.lost;
    let sent_before = call.sent_bytes;
    call.run_until(20.0);
    let kbps = call.estimate_kbps();
    assert!(
        kbps <= 650,
        "estimate {kbps} kbit/s behind a 500 kbit/s policer"
    );
    assert!(
        kbps >= 200,
        "estimate {kbps} kbit/s: too timid behind a 500 kbit/s policer"
    );
    let sent = (call.sent_bytes - sent_before) / PACKET as u64;
    let lost = call.lost - lost_before;
    assert!(lost * 100 < sent * 15, "{lost} of {sent} packets lost");
}

#[test]
fn a_policer_that_counts_each_seconds_bytes_is_found_without_falling_far_below_it() {
    // coturn's `--max-bps`, at 360 kbit/s: the first probes pass whole and read the link
    // as wide; the loss that follows must bring the estimate down to the link, not to a
    // fraction of it (it fell to 98 kbit/s through the browser suite's coturn).
    let mut call = Call::new(Bottleneck::each_second(360_000), 2_500_000);
    let mut lowest = u64::MAX;
    let mut lost_before = 0;
    let mut sent_before = 0;
    for tick in 1..=250 {
        call.run_until(tick as f64 / 10.0);
        lowest = lowest.min(call.estimate_kbps());
        if tick == 50 {
            (lost_before, sent_before) = (call.lost, call.sent_bytes);
        }
    }
    assert!(lowest >= 200, "estimate fell to {lowest} kbit/s behind 360");
    let kbps = call.estimate_kbps();
    assert!(kbps <= 500, "estimate {kbps} kbit/s behind 360");
    let sent = (call.sent_bytes - sent_before) / PACKET as u64;
    let lost = call.lost - lost_before;
    // 8% before probes were held to the loss-based limit (they passed whole, and the
    // media after them in that second did not).
    assert!(lost * 100 < sent * 5, "{lost} of {sent} packets lost");
}

#[test]
fn feedback_about_packets_never_sent_changes_nothing() {
    let now = Instant::now();
    let mut estimator = LinkEstimator::new(now, 300_000, 30_000, 5_000_000);
    for seq in 0..10 {
        estimator.sent(seq, now + Duration::from_millis(seq * 10), PACKET);
    }
    let later = now + Duration::from_secs(1);
    estimator.reports(later, (5_000..5_100).map(|seq| (seq, None)));
    estimator.reports(later, (100_000..100_050).map(|seq| (seq, Some(later))));
    assert_eq!(estimator.estimate_bps(), 300_000);
    assert_eq!(estimator.loss(), 0.0);
    assert_eq!(estimator.acked_bps(), None);
}

#[test]
fn a_packet_reported_lost_then_received_counts_as_received() {
    let now = Instant::now();
    let mut estimator = LinkEstimator::new(now, 300_000, 30_000, 5_000_000);
    for seq in 0..100 {
        estimator.sent(seq, now + Duration::from_millis(seq * 10), PACKET);
    }
    let later = now + Duration::from_secs(2);
    // Reported lost, too few to judge yet; then received after all (reordered).
    estimator.reports(later, (0..30).map(|seq| (seq, None)));
    assert_eq!(estimator.reported(), (0, 30));
    let arrival = |seq: u64| Some(now + Duration::from_millis(seq * 10 + 20));
    estimator.reports(later, (0..100).map(|seq| (seq, arrival(seq))));
    estimator.reports(
        later + Duration::from_secs(2),
        (0..100).map(|seq| (seq, arrival(seq))),
    );
    assert_eq!(estimator.reported(), (100, 0));
    assert!(estimator.loss() < 0.01, "loss {}", estimator.loss());
    assert_eq!(estimator.estimate_bps(), 300_000, "nothing was cut");
}

#[test]
fn one_overshoot_is_cut_once_not_again_for_each_late_report_of_it() {
    let now = Instant::now();
    let mut estimator = LinkEstimator::new(now, 1_000_000, 30_000, 5_000_000);
    let at = |ms: u64| now + Duration::from_millis(ms);
    // Half a second at the old rate, most of it lost.
    for seq in 0..100 {
        estimator.sent(seq, at(seq * 5), PACKET);
    }
    let lost_most = |seq: u64| (seq, seq.is_multiple_of(5).then(|| at(seq * 5 + 20)));
    estimator.reports(at(520), (0..45).map(lost_most));
    let after_one_cut = estimator.estimate_bps();
    assert!(after_one_cut < 1_000_000, "the loss cut the rate");
    // The rest of that half second is reported late, past the cut's interval.
    estimator.reports(at(900), (45..100).map(lost_most));
    assert_eq!(
        estimator.estimate_bps(),
        after_one_cut,
        "cut once for one overshoot"
    );
}
