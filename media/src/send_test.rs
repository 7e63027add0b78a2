use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::rtp::rtcp::{Nack, Rtcp};

use super::*;
use crate::keys::Profile;
use crate::rtcp::write_nack;
use crate::rtp::ReadHeader;
use crate::srtcp::RtcpUnprotector;
use crate::srtp::RtpUnprotector;

const KEY: [u8; 16] = [7; 16];
const SALT: [u8; 12] = [9; 12];
const TWCC_ID: u8 = 3;
const MID_ID: u8 = 1;
const AUDIO: u32 = 0x1111;
const VIDEO: u32 = 0x2222;
const VIDEO_RTX: u32 = 0x3333;
const RTX_PT: u8 = 97;

fn sender(now: Instant) -> RtpSender {
    let provider = str0m::crypto::from_feature_flags();
    let profile = Profile::AeadAes128Gcm;
    let mut sender = RtpSender::new(
        RtpProtector::new(&provider, profile, &KEY, &SALT),
        RtcpProtector::new(&provider, profile, &KEY, &SALT),
        Some(TWCC_ID),
        LinkEstimator::new(now, 1_000_000, 30_000, 10_000_000),
    );
    sender.add_stream(StreamSetup {
        ssrc: AUDIO,
        clock_hz: 48_000,
        repair: None,
    });
    sender.add_stream(StreamSetup {
        ssrc: VIDEO,
        clock_hz: 90_000,
        repair: Some(RepairSetup {
            ssrc: VIDEO_RTX,
            payload_type: RTX_PT,
            extensions: vec![(MID_ID, b"1".to_vec())],
            first_index: 0,
        }),
    });
    sender
}

/// What a receiver reads of one SRTP packet: its header's fields, its transport-wide
/// number, its `mid`, and the payload.
#[derive(Debug, PartialEq)]
struct Opened {
    ssrc: u32,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    marker: bool,
    twcc: Option<u16>,
    mid: Option<Vec<u8>>,
    payload: Vec<u8>,
}

/// Opens `packet` as the receiver would, its SRTP index given.
fn open(packet: &[u8], index: u64) -> Opened {
    let provider = str0m::crypto::from_feature_flags();
    let mut opener = RtpUnprotector::new(&provider, Profile::AeadAes128Gcm, &KEY, &SALT);
    let header = ReadHeader::parse(packet).expect("an RTP header");
    let mut payload = Vec::new();
    opener
        .unprotect(packet, header.header_len, index, &mut payload)
        .expect("it opens with the transport's keys");
    Opened {
        ssrc: header.ssrc,
        payload_type: header.payload_type,
        sequence: header.sequence,
        timestamp: header.timestamp,
        marker: header.marker,
        twcc: header
            .extension(TWCC_ID)
            .map(|v| u16::from_be_bytes([v[0], v[1]])),
        mid: header.extension(MID_ID).map(<[u8]>::to_vec),
        payload,
    }
}

fn video(index: u64, payload: &Arc<[u8]>) -> Outgoing<'_> {
    Outgoing {
        ssrc: VIDEO,
        payload_type: 96,
        index,
        timestamp: 9_000 + (index as u32 / 3) * 3_000,
        marker: index % 3 == 2,
        extensions: &[(MID_ID, b"1")],
        payload,
        head: &[],
    }
}

fn nack(ssrc: u32, missing: &[u16]) -> Nack {
    let mut out = Vec::new();
    write_nack(&mut out, 1, ssrc, missing);
    match Rtcp::try_from(&out[..]) {
        Ok(Rtcp::Nack(nack)) => nack,
        other => panic!("not a NACK: {other:?}"),
    }
}

#[test]
fn every_packet_takes_the_transports_next_number_whatever_its_stream() {
    let now = Instant::now();
    let mut sender = sender(now);
    let voice: Arc<[u8]> = Arc::from(&b"voice"[..]);
    let frame: Arc<[u8]> = Arc::from(&b"frame"[..]);
    let mut opened = Vec::new();
    for (i, index) in [70_000u64, 70_001, 70_002].into_iter().enumerate() {
        let mut out = Vec::new();
        let audio = Outgoing {
            ssrc: AUDIO,
            payload_type: 111,
            index: index + 1,
            timestamp: 960 * i as u32,
            marker: false,
            extensions: &[],
            payload: &voice,
            head: &[],
        };
        sender.send(now, &audio, &mut out).unwrap();
        opened.push(open(&out, index + 1));
        out.clear();
        sender.send(now, &video(index, &frame), &mut out).unwrap();
        opened.push(open(&out, index));
    }
    let numbers: Vec<Option<u16>> = opened.iter().map(|o| o.twcc).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5].map(Some));
    assert_eq!(
        opened[1].sequence, 70_000u64 as u16,
        "the stream's own numbering"
    );
    assert_eq!(opened[1].mid.as_deref(), Some(&b"1"[..]));
    assert_eq!(opened[0].payload, b"voice");
    assert_eq!(opened[5].payload, b"frame");
    assert!(
        opened[3].marker && !opened[5].marker,
        "a frame's last packet is marked"
    );
}

#[test]
fn a_packet_for_a_stream_never_added_is_refused_without_taking_a_number() {
    let now = Instant::now();
    let mut sender = sender(now);
    let frame: Arc<[u8]> = Arc::from(&b"frame"[..]);
    let mut out = Vec::new();
    let stranger = Outgoing {
        ssrc: 0x9999,
        ..video(1, &frame)
    };
    assert_eq!(
        sender.send(now, &stranger, &mut out),
        Err(SendError::UnknownStream)
    );
    assert!(out.is_empty());
    sender.send(now, &video(1, &frame), &mut out).unwrap();
    assert_eq!(open(&out, 1).twcc, Some(0));
}

#[test]
fn a_nack_is_answered_on_the_repair_stream_with_the_original_number_before_the_payload() {
    let now = Instant::now();
    let mut sender = sender(now);
    let payloads: Vec<Arc<[u8]>> = (0..10u8).map(|i| Arc::from(vec![i; 40])).collect();
    for (i, payload) in payloads.iter().enumerate() {
        sender
            .send(now, &video(100 + i as u64, payload), &mut Vec::new())
            .unwrap();
    }
    let mut repairs = Vec::new();
    let later = now + Duration::from_millis(30);
    let count = sender.repair(
        later,
        &nack(VIDEO, &[102, 103, 105]),
        Duration::from_millis(20),
        &mut repairs,
    );
    assert_eq!(count, 3);
    let opened: Vec<Opened> = repairs
        .iter()
        .enumerate()
        .map(|(i, p)| open(p, i as u64))
        .collect();
    for (repair, original) in opened.iter().zip([102u16, 103, 105]) {
        let sent = video(u64::from(original), &payloads[usize::from(original - 100)]);
        assert_eq!(repair.ssrc, VIDEO_RTX);
        assert_eq!(repair.payload_type, RTX_PT);
        assert_eq!(repair.timestamp, sent.timestamp);
        assert_eq!(repair.marker, sent.marker);
        assert_eq!(repair.mid.as_deref(), Some(&b"1"[..]));
        assert_eq!(repair.payload[..2], original.to_be_bytes());
        assert_eq!(repair.payload[2..], sent.payload[..]);
    }
    let sequences: Vec<u16> = opened.iter().map(|o| o.sequence).collect();
    assert_eq!(
        sequences,
        [0, 1, 2],
        "the repair stream numbers its own packets"
    );
    let numbers: Vec<Option<u16>> = opened.iter().map(|o| o.twcc).collect();
    assert_eq!(
        numbers,
        [10, 11, 12].map(Some),
        "repairs draw on the transport's numbers"
    );
}

#[test]
fn a_repeated_nack_within_a_round_trip_is_not_answered_twice_and_forgotten_packets_not_at_all() {
    let now = Instant::now();
    let mut sender = sender(now);
    let frame: Arc<[u8]> = Arc::from(&b"frame"[..]);
    sender
        .send(now, &video(5, &frame), &mut Vec::new())
        .unwrap();
    let rtt = Duration::from_millis(50);
    let mut repairs = Vec::new();
    let at = |ms| now + Duration::from_millis(ms);
    assert_eq!(
        sender.repair(at(10), &nack(VIDEO, &[5]), rtt, &mut repairs),
        0,
        "it just left"
    );
    assert_eq!(
        sender.repair(at(60), &nack(VIDEO, &[5]), rtt, &mut repairs),
        1
    );
    assert_eq!(
        sender.repair(at(80), &nack(VIDEO, &[5]), rtt, &mut repairs),
        0,
        "repaired 20 ms ago"
    );
    assert_eq!(
        sender.repair(at(120), &nack(VIDEO, &[5]), rtt, &mut repairs),
        1
    );
    assert_eq!(
        sender.repair(at(200), &nack(VIDEO, &[6]), rtt, &mut repairs),
        0,
        "never sent"
    );
    // The slot is taken by a packet 512 later: the old one is gone.
    sender
        .send(at(200), &video(5 + 512, &frame), &mut Vec::new())
        .unwrap();
    assert_eq!(
        sender.repair(at(300), &nack(VIDEO, &[5]), rtt, &mut repairs),
        0
    );
    // Audio has no repair stream, and keeps nothing.
    let voice = Outgoing {
        ssrc: AUDIO,
        payload_type: 111,
        ..video(9, &frame)
    };
    sender.send(at(300), &voice, &mut Vec::new()).unwrap();
    assert_eq!(
        sender.repair(at(400), &nack(AUDIO, &[9]), rtt, &mut repairs),
        0
    );
    assert_eq!(repairs.len(), 2);
}

#[test]
fn a_sender_report_carries_the_rtp_time_of_its_moment_counted_from_the_last_packet_that_left() {
    let now = Instant::now();
    let mut sender = sender(now);
    let wall = Duration::new(1_800_000_000, 500_000_000);
    let mut out = Vec::new();
    assert!(
        !sender.sender_report(now, wall, AUDIO, &mut out),
        "nothing sent yet"
    );
    assert!(out.is_empty());
    let voice: Arc<[u8]> = Arc::from(vec![0u8; 100]);
    for i in 0..3u32 {
        let audio = Outgoing {
            ssrc: AUDIO,
            payload_type: 111,
            index: u64::from(i),
            timestamp: 4_294_966_000u32.wrapping_add(960 * i),
            marker: false,
            extensions: &[],
            payload: &voice,
            head: &[],
        };
        let at = now + Duration::from_millis(20 * u64::from(i));
        sender.send(at, &audio, &mut Vec::new()).unwrap();
    }
    let last_sent = now + Duration::from_millis(40);
    let report_at = last_sent + Duration::from_millis(25);
    assert!(sender.sender_report(report_at, wall, AUDIO, &mut out));
    let provider = str0m::crypto::from_feature_flags();
    let mut opener = RtcpUnprotector::new(&provider, Profile::AeadAes128Gcm, &KEY, &SALT);
    let mut plain = Vec::new();
    opener.unprotect(&out, &mut plain).expect("it opens");
    let Ok(Rtcp::SenderReport(report)) = Rtcp::try_from(&plain[..]) else {
        panic!("not a sender report: {plain:?}");
    };
    let info = report.sender_info;
    assert_eq!(*info.ssrc, AUDIO);
    // 25 ms at 48 kHz after the last packet's time, across the 32-bit wrap.
    let expected = 4_294_966_000u32.wrapping_add(960 * 2).wrapping_add(1_200);
    assert_eq!(info.rtp_time.numer() as u32, expected);
    assert_eq!(
        (info.sender_packet_count, info.sender_octet_count),
        (3, 300)
    );
    let ntp = u64::from(u32::from_be_bytes(plain[8..12].try_into().unwrap()));
    assert_eq!(ntp, 1_800_000_000 + 2_208_988_800);
    let fraction = u32::from_be_bytes(plain[12..16].try_into().unwrap());
    assert_eq!(fraction, 1 << 31, "half a second");
}

#[test]
fn numbers_continue_past_those_another_writer_used_on_the_transport_across_a_wrap() {
    let now = Instant::now();
    let mut sender = sender(now);
    let frame: Arc<[u8]> = Arc::from(&b"frame"[..]);
    sender.skip_past_twcc(41);
    sender.skip_past_twcc(7);
    let mut out = Vec::new();
    sender.send(now, &video(1, &frame), &mut out).unwrap();
    assert_eq!(
        open(&out, 1).twcc,
        Some(42),
        "after the highest used, not the last told"
    );
    for used in [30_000, 60_000, 65_535, 2] {
        sender.skip_past_twcc(used);
    }
    out.clear();
    sender.send(now, &video(2, &frame), &mut out).unwrap();
    assert_eq!(
        open(&out, 2).twcc,
        Some(3),
        "65,535 then 2: the numbers wrapped"
    );
}

#[test]
fn a_probe_is_the_newest_video_packet_again_on_its_repair_stream_and_counts_for_its_cluster() {
    let now = Instant::now();
    let mut sender = sender(now);
    let mut out = Vec::new();
    assert_eq!(
        sender.probe(now, 1, &mut out),
        None,
        "nothing to copy before any video left"
    );
    let payloads: Vec<Arc<[u8]>> = (0..3u8).map(|i| Arc::from(vec![i; 40])).collect();
    for (i, payload) in payloads.iter().enumerate() {
        sender
            .send(now, &video(200 + i as u64, payload), &mut Vec::new())
            .unwrap();
    }
    assert_eq!(sender.probe(now, 1, &mut out), Some(out.len()));
    let probe = open(&out, 0);
    assert_eq!(probe.ssrc, VIDEO_RTX);
    assert_eq!(probe.payload[..2], 202u16.to_be_bytes());
    assert_eq!(probe.payload[2..], payloads[2][..]);
    assert_eq!(
        probe.twcc,
        Some(3),
        "probes draw from the transport's one counter"
    );
}

#[test]
fn a_storm_of_nacks_is_answered_within_half_the_estimate_not_all_at_once() {
    let now = Instant::now();
    // An estimate of 1 Mbit/s: repairs may use 62,500 bytes a second, a quarter second
    // of it at once.
    let mut sender = sender(now);
    let payload: Arc<[u8]> = Arc::from(vec![7u8; 1_000]);
    for index in 100..200u64 {
        sender
            .send(now, &video(index, &payload), &mut Vec::new())
            .unwrap();
    }
    // A receiver behind a policer asks for all of them again every 100 ms.
    let lost: Vec<u16> = (100..200).collect();
    let mut repairs = Vec::new();
    let first = sender.repair(
        now + Duration::from_millis(100),
        &nack(VIDEO, &lost),
        Duration::from_millis(20),
        &mut repairs,
    );
    assert!((15..=17).contains(&first), "a first burst: {first}");
    for step in 2..=10u64 {
        sender.repair(
            now + Duration::from_millis(100 * step),
            &nack(VIDEO, &lost),
            Duration::from_millis(20),
            &mut repairs,
        );
    }
    let payload_bytes = repairs.len() * 1_000;
    assert!(
        (15_625 + 56_250..=15_625 + 56_250 + 2_000).contains(&payload_bytes),
        "a burst and 0.9 s at half the estimate: {payload_bytes}"
    );
}
