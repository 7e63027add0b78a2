use std::time::{Duration, Instant};

use str0m::rtp::rtcp::Rtcp;

use super::*;
use crate::feedback::TwccReceiver;

fn parse(packet: &[u8]) -> Rtcp {
    assert_eq!(packet.len() % 4, 0, "RTCP is 32-bit aligned");
    let words = u16::from_be_bytes([packet[2], packet[3]]) as usize;
    assert_eq!(
        (words + 1) * 4,
        packet.len(),
        "the length field covers the packet"
    );
    Rtcp::try_from(packet).expect("str0m parses it")
}

#[test]
fn a_nack_packs_sequence_numbers_within_sixteen_into_one_entry_as_str0m_reads_them() {
    let mut out = Vec::new();
    write_nack(&mut out, 7, 9, &[65_534, 65_535, 3, 40]);
    let Rtcp::Nack(nack) = parse(&out) else {
        panic!("not a NACK");
    };
    assert_eq!((*nack.sender_ssrc, *nack.ssrc), (7, 9));
    let entries: Vec<(u16, u16)> = nack.reports.iter().map(|e| (e.pid, e.blp)).collect();
    assert_eq!(entries, [(65_534, 0b1 | 1 << 4), (40, 0)]);
}

/// Feedback for `arrivals` (sequence number, micros after a start) read back by str0m:
/// each sequence number from the first to the last with its arrival, or `None`. The
/// reference times count from the first arrival (only differences mean anything to a
/// sender), so str0m is given that as its time zero.
fn round_trip(arrivals: &[(u16, u64)]) -> Vec<(u64, Option<Duration>)> {
    let start = Instant::now();
    let mut receiver = TwccReceiver::default();
    for (seq, micros) in arrivals {
        receiver.record(*seq, start + Duration::from_micros(*micros));
    }
    let mut out = Vec::new();
    assert!(receiver.write_feedback(1, 2, &mut out));
    assert!(!receiver.has_unreported());
    let Rtcp::Twcc(twcc) = parse(&out) else {
        panic!("not transport-wide feedback");
    };
    let (first, zero) = (arrivals[0].0, start + Duration::from_micros(arrivals[0].1));
    twcc.into_iter(zero, u64::from(first).into())
        .map(|(seq, _, at)| (*seq, at.map(|at| at - start)))
        .collect()
}

#[test]
fn transport_feedback_reports_every_arrival_to_the_quarter_millisecond_as_str0m_reads_it() {
    // Small steps, a loss, a long run of equal steps, a large step and one backwards.
    let mut arrivals = vec![(100u16, 1_000u64), (101, 1_250), (103, 2_000)];
    for k in 0..20 {
        arrivals.push((104 + k, 2_500 + 500 * u64::from(k)));
    }
    arrivals.push((124, 200_000));
    arrivals.push((125, 150_000));
    let read = round_trip(&arrivals);
    assert_eq!(read.len(), 26);
    for (seq, micros) in &arrivals {
        let (_, at) = read.iter().find(|(s, _)| *s == u64::from(*seq)).unwrap();
        let at = at.expect("reported received").as_micros() as u64;
        assert!(
            at <= *micros && micros - at < 250,
            "{seq}: {at} against {micros}"
        );
    }
    assert_eq!(read.iter().find(|(s, _)| *s == 102).unwrap().1, None);
}

#[test]
fn transport_feedback_continues_where_the_last_report_ended_across_a_wrap() {
    let start = Instant::now();
    let mut receiver = TwccReceiver::default();
    receiver.record(65_534, start);
    let mut out = Vec::new();
    assert!(receiver.write_feedback(1, 2, &mut out));
    receiver.record(1, start + Duration::from_millis(5));
    out.clear();
    assert!(receiver.write_feedback(1, 2, &mut out));
    let Rtcp::Twcc(twcc) = parse(&out) else {
        panic!("not transport-wide feedback");
    };
    assert_eq!((twcc.base_seq, twcc.status_count), (65_535, 3));
    let received: Vec<bool> = twcc
        .into_iter(start, 65_535u64.into())
        .map(|(_, _, at)| at.is_some())
        .collect();
    assert_eq!(received, [false, false, true]);
}
