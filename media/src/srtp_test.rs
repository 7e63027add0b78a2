use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::Extension;
use str0m::{Candidate, Event, Input, Output, Rtc};

use super::*;
use crate::keys::{capturing_provider, with_key_capture};
use crate::rtp::RtpHeader;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn key_derivation_matches_rfc_3711_appendix_b3() {
    let provider = str0m::crypto::from_feature_flags();
    let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
    let mut cipher_key = [0u8; 16];
    derive(&provider, &key, &salt, 0x00, &mut cipher_key);
    assert_eq!(cipher_key.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut cipher_salt = [0u8; 14];
    derive(&provider, &key, &salt, 0x02, &mut cipher_salt);
    assert_eq!(cipher_salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
}

#[test]
fn a_header_past_the_packet_is_refused_and_nothing_is_appended() {
    let provider = str0m::crypto::from_feature_flags();
    let mut protector = RtpProtector::new(&provider, Profile::AeadAes128Gcm, &[1; 16], &[2; 12]);
    let mut out = vec![9];
    let packet = [0x80u8; 20];
    assert_eq!(
        protector.protect(&packet, 24, 1, &mut out),
        Err(ProtectError::BadHeader)
    );
    assert_eq!(
        protector.protect(&packet, 8, 1, &mut out),
        Err(ProtectError::BadHeader)
    );
    assert_eq!(out, [9]);
}

#[test]
fn a_payload_sealed_from_where_it_lies_is_the_same_packet_as_one_copied_behind_its_header() {
    let provider = str0m::crypto::from_feature_flags();
    let new = || RtpProtector::new(&provider, Profile::AeadAes256Gcm, &[1; 32], &[2; 12]);
    let (mut whole, mut apart) = (new(), new());
    let mut packet = vec![0x80, 96, 0, 7, 0, 0, 0, 9, 0, 0, 0x12, 0x34];
    let header_len = packet.len();
    packet.extend((0..1_100).map(|i| i as u8));
    let (mut copied, mut in_place) = (vec![5], vec![5]);
    whole.protect(&packet, header_len, 7, &mut copied).unwrap();
    let (header, payload) = packet.split_at(header_len);
    apart
        .protect_parts(header, payload, 7, &mut in_place)
        .unwrap();
    assert_eq!(copied, in_place);
    assert_eq!(copied.len(), 1 + packet.len() + TAG_LEN);
}

/// Two str0m peers over an in-memory link.
struct Pair {
    now: Instant,
    sender: Rtc,
    receiver: Rtc,
    events: Vec<Event>,
}

const SENDER: &str = "10.0.0.1:5000";
const RECEIVER: &str = "10.0.0.2:5000";

impl Pair {
    fn new() -> (Self, crate::keys::KeySlot, Mid) {
        let now = Instant::now();
        let (mut sender, slot) = with_key_capture(|| {
            Rtc::builder()
                .set_crypto_provider(capturing_provider())
                .set_rtp_mode(true)
                .clear_codecs()
                .enable_vp8(true)
                .build(now)
        });
        let mut receiver = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_vp8(true)
            .build(now);
        let s: SocketAddr = SENDER.parse().unwrap();
        let r: SocketAddr = RECEIVER.parse().unwrap();
        sender.add_local_candidate(Candidate::host(s, "udp").unwrap());
        receiver.add_local_candidate(Candidate::host(r, "udp").unwrap());
        let mut change = sender.sdp_api();
        let mid = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = change.apply().unwrap();
        let offer = SdpOffer::from_sdp_string(&offer.to_sdp_string()).unwrap();
        let answer = receiver.sdp_api().accept_offer(offer).unwrap();
        sender.sdp_api().accept_answer(pending, answer).unwrap();
        let pair = Self {
            now,
            sender,
            receiver,
            events: Vec::new(),
        };
        (pair, slot, mid)
    }

    /// Runs both peers for `steps` of 5 ms.
    fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            self.now += Duration::from_millis(5);
            for rtc in [&mut self.sender, &mut self.receiver] {
                rtc.handle_input(Input::Timeout(self.now)).unwrap();
            }
            for _ in 0..4 {
                self.exchange();
            }
        }
    }

    fn exchange(&mut self) {
        let mut to_receiver = Vec::new();
        while let Ok(output) = self.sender.poll_output() {
            match output {
                Output::Transmit(t) => to_receiver.push(t.contents.to_vec()),
                Output::Event(_) => {}
                Output::Timeout(_) => break,
            }
        }
        let mut to_sender = Vec::new();
        while let Ok(output) = self.receiver.poll_output() {
            match output {
                Output::Transmit(t) => to_sender.push(t.contents.to_vec()),
                Output::Event(e) => self.events.push(e),
                Output::Timeout(_) => break,
            }
        }
        for datagram in to_receiver {
            self.deliver(false, &datagram);
        }
        for datagram in to_sender {
            self.deliver(true, &datagram);
        }
    }

    fn deliver(&mut self, to_sender: bool, datagram: &[u8]) {
        let (source, destination) = if to_sender {
            (RECEIVER, SENDER)
        } else {
            (SENDER, RECEIVER)
        };
        let receive = Receive::new(
            Protocol::Udp,
            source.parse().unwrap(),
            destination.parse().unwrap(),
            datagram,
        )
        .unwrap();
        let rtc = if to_sender {
            &mut self.sender
        } else {
            &mut self.receiver
        };
        rtc.handle_input(Input::Receive(self.now, receive)).unwrap();
    }
}

#[test]
fn one_buffer_opens_packets_long_and_short_in_turn_and_a_forged_one_leaves_it_empty() {
    let provider = str0m::crypto::from_feature_flags();
    let profile = Profile::AeadAes128Gcm;
    let mut protector = RtpProtector::new(&provider, profile, &[1; 16], &[2; 12]);
    let mut opener = RtpUnprotector::new(&provider, profile, &[1; 16], &[2; 12]);
    let mut header = [0u8; 12];
    header[0] = 0x80;
    header[8..].copy_from_slice(&7u32.to_be_bytes());
    let mut opened = Vec::new();
    for (index, len) in [(1u64, 1_000usize), (2, 40), (3, 600), (4, 1_100)] {
        let payload: Vec<u8> = (0..len).map(|i| (i as u64 * index) as u8).collect();
        let mut packet = header.to_vec();
        packet[2..4].copy_from_slice(&(index as u16).to_be_bytes());
        packet.extend_from_slice(&payload);
        let mut sealed = Vec::new();
        protector.protect(&packet, 12, index, &mut sealed).unwrap();
        opener.unprotect(&sealed, 12, index, &mut opened).unwrap();
        assert_eq!(opened, payload, "packet {index}: exactly its own payload");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(opener.unprotect(&sealed, 12, index, &mut opened).is_err());
        assert!(
            opened.is_empty(),
            "packet {index}: nothing of a forged packet"
        );
    }
}

#[test]
fn packets_protected_here_with_keys_captured_from_the_handshake_are_received_by_str0m() {
    let (mut pair, slot, mid) = Pair::new();
    pair.run(200);
    assert!(pair.sender.is_connected(), "the peers connect");
    let keys = slot.get().expect("the handshake's keys were captured");
    let (profile, key, salt) = keys.sending().expect("a GCM profile was negotiated");
    let provider = capturing_provider();
    let mut protector = RtpProtector::new(&provider, profile, key, salt);

    let ssrc = *pair
        .sender
        .direct_api()
        .stream_tx_by_mid(mid, None)
        .unwrap()
        .ssrc();
    let media = pair.sender.media(mid).unwrap();
    let mid_id = media.remote_extmap().id_of(Extension::RtpMid).unwrap();
    let pt = pair
        .sender
        .codec_config()
        .params()
        .iter()
        .find(|p| p.spec().codec == Codec::Vp8)
        .unwrap()
        .pt();
    // Sequence numbers across a rollover: the index carries the rollover counter.
    let sequences: Vec<u64> = (65_530u64..65_542).collect();
    for &index in &sequences {
        let payload = [0x10, 0, 0, 0, index as u8, 0xab, 0xcd];
        let mut packet = Vec::new();
        let header_len = RtpHeader {
            marker: true,
            payload_type: *pt,
            sequence: index as u16,
            timestamp: index as u32 * 3_000,
            ssrc,
            extensions: &[(mid_id, mid.as_bytes())],
        }
        .write(&mut packet);
        packet.extend_from_slice(&payload);
        let mut sealed = Vec::new();
        protector
            .protect(&packet, header_len, index, &mut sealed)
            .unwrap();
        assert_ne!(&sealed[header_len..header_len + payload.len()], &payload);
        pair.deliver(false, &sealed);
        pair.exchange();
    }
    let received: Vec<(u64, Vec<u8>)> = pair
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RtpPacket(p) => Some((*p.seq_no, p.payload.to_vec())),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), sequences.len(), "every packet decrypted");
    for ((seq, payload), index) in received.iter().zip(&sequences) {
        assert_eq!(seq, index);
        assert_eq!(payload[4], *index as u8);
        assert_eq!(&payload[5..], &[0xab, 0xcd]);
    }
}

/// RTP and RTCP are told apart by the second byte (RFC 5761 4): 192..=223 is RTCP.
fn is_rtp(datagram: &[u8]) -> bool {
    datagram.len() >= 12 && datagram[0] >> 6 == 2 && !(192..=223).contains(&datagram[1])
}

/// What str0m's sender sends next, as datagrams, without delivering them.
fn sent_by(rtc: &mut Rtc) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    while let Ok(output) = rtc.poll_output() {
        match output {
            Output::Transmit(t) => sent.push(t.contents.to_vec()),
            Output::Event(_) => {}
            Output::Timeout(_) => break,
        }
    }
    sent
}

#[test]
fn packets_str0m_protects_are_opened_here_a_replay_is_refused_and_a_nack_protected_here_is_answered()
 {
    let (mut pair, slot, mid) = Pair::new();
    pair.run(200);
    let keys = slot.get().expect("the handshake's keys were captured");
    let provider = capturing_provider();
    let (profile, key, salt) = keys.sending().unwrap();
    let mut opener = RtpUnprotector::new(&provider, profile, key, salt);
    let (profile, key, salt) = keys.receiving().unwrap();
    let mut rtcp = crate::srtcp::RtcpProtector::new(&provider, profile, key, salt);
    let pt = pair
        .sender
        .codec_config()
        .params()
        .iter()
        .find(|p| p.spec().codec == Codec::Vp8)
        .unwrap()
        .pt();
    let ssrc = *pair
        .sender
        .direct_api()
        .stream_tx_by_mid(mid, None)
        .unwrap()
        .ssrc();
    let now = pair.now;
    for seq in 1u64..=10 {
        let payload: std::sync::Arc<[u8]> = vec![0x10, 0, 0, 0, seq as u8].into();
        let write = str0m::rtp::RtpWrite::new(pt, seq.into(), seq as u32 * 3_000, now, payload)
            .nackable(true);
        let mut api = pair.sender.direct_api();
        api.stream_tx_by_mid(mid, None).unwrap().write_rtp(write);
    }
    pair.sender.handle_input(Input::Timeout(now)).unwrap();
    let mut index = crate::index::ReceivedIndex::default();
    let mut opened = Vec::new();
    let mut payload = Vec::new();
    for datagram in sent_by(&mut pair.sender).iter().filter(|d| is_rtp(d)) {
        let header = crate::rtp::ReadHeader::parse(datagram).unwrap();
        let at = index.estimate(header.sequence);
        assert!(index.is_fresh(at));
        opener
            .unprotect(datagram, header.header_len, at, &mut payload)
            .expect("it opens with the sender's captured keys");
        index.accept(at);
        assert!(!index.is_fresh(at), "the same packet again is a replay");
        opened.push((header.sequence, payload[4]));
        let mut forged = datagram.clone();
        *forged.last_mut().unwrap() ^= 1;
        assert_eq!(
            opener.unprotect(&forged, header.header_len, at, &mut payload),
            Err(UnprotectError::Authentication)
        );
    }
    assert_eq!(opened.len(), 10);
    assert!(opened.iter().all(|(seq, byte)| *seq as u8 == *byte));

    let mut nack = Vec::new();
    crate::rtcp::write_nack(&mut nack, 0x5eed, ssrc, &[5]);
    let mut sealed = Vec::new();
    rtcp.protect(&nack, &mut sealed).unwrap();
    pair.deliver(true, &sealed);
    pair.sender
        .handle_input(Input::Timeout(now + Duration::from_millis(20)))
        .unwrap();
    let resent: Vec<(u32, Vec<u8>)> = sent_by(&mut pair.sender)
        .into_iter()
        .filter(|d| is_rtp(d))
        .map(|d| {
            let header = crate::rtp::ReadHeader::parse(&d).unwrap();
            let at = u64::from(header.sequence);
            opener
                .unprotect(&d, header.header_len, at, &mut payload)
                .unwrap();
            (header.ssrc, payload.clone())
        })
        .collect();
    let repair = resent
        .iter()
        .find(|(s, _)| *s != ssrc)
        .expect("str0m resent the packet asked for, on its repair stream");
    assert_eq!(
        &repair.1[..2],
        &5u16.to_be_bytes(),
        "the original sequence number"
    );
    assert_eq!(repair.1[2 + 4], 5);
}
