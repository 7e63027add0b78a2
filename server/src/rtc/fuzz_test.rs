//! Bounded mutation fuzzing of every decoder that takes untrusted input on the signaling
//! surface: `/rtc/v1`'s join request, signal frames (protobuf and JSON) with their limit
//! checks, Twirp bodies, trickled candidates, and SDP (ours and str0m's parser, which runs
//! inside the SFU task where a panic would end every room). Each target gets
//! `BEDSIDE_FUZZ_CASES` mutations (default 3000) of valid seeds, from a fixed seed so a
//! failure replays; set `BEDSIDE_FUZZ_SEED` to explore further, and raise the case count
//! to run longer. A case passes when it returns (any `Ok` or `Err`) without panicking.

use std::collections::HashMap;

use base64::Engine;
use livekit_protocol as proto;
use prost::Message as _;

use super::join;
use super::limits;
use super::twirp;

/// A small, seedable xorshift generator: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn cases() -> usize {
    std::env::var("BEDSIDE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

fn rng() -> Rng {
    let seed = std::env::var("BEDSIDE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_b3d5_1de0_u64);
    Rng(seed.max(1))
}

/// One to four random edits: flip, insert, delete, truncate, duplicate a slice.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if at < out.len() => {
                out.remove(at);
            }
            3 => out.truncate(at),
            _ => {
                let end = (at + rng.below(16)).min(out.len());
                let chunk = out[at..end].to_vec();
                out.splice(at..at, chunk);
            }
        }
    }
    out
}

/// Runs `target` on `cases()` mutations of the seeds.
fn fuzz(seeds: &[Vec<u8>], mut target: impl FnMut(&[u8])) {
    let mut rng = rng();
    for seed in seeds {
        target(seed);
    }
    for _ in 0..cases() {
        let seed = &seeds[rng.below(seeds.len())];
        target(&mutate(&mut rng, seed));
    }
}

const OFFER: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\r\n\
a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=msid:s1 t1\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1001 cname:c\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\r\n\
a=setup:actpass\r\na=mid:1\r\na=sendonly\r\na=msid:s1 t2\r\na=rtcp-mux\r\na=rtcp-rsize\r\n\
a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\n\
a=fmtp:97 apt=96\r\na=rid:q send\r\na=rid:h send\r\na=simulcast:send q;h\r\n";

fn signal_seeds() -> Vec<proto::SignalRequest> {
    use proto::signal_request::Message as M;
    let request = |message| proto::SignalRequest {
        message: Some(message),
    };
    vec![
        request(M::Offer(proto::SessionDescription {
            r#type: "offer".into(),
            sdp: OFFER.into(),
            id: 1,
            ..Default::default()
        })),
        request(M::AddTrack(proto::AddTrackRequest {
            cid: "TR_local".into(),
            name: "camera".into(),
            r#type: proto::TrackType::Video as i32,
            layers: vec![proto::VideoLayer::default(); 3],
            ..Default::default()
        })),
        request(M::Trickle(proto::TrickleRequest {
            candidate_init: r#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0"}"#.into(),
            ..Default::default()
        })),
        request(M::Subscription(proto::UpdateSubscription {
            track_sids: vec!["TR_a".into(), "TR_b".into()],
            subscribe: true,
            ..Default::default()
        })),
        request(M::Ping(7)),
    ]
}

#[test]
fn signal_frames_in_protobuf_and_json_never_panic_the_decoder_or_the_limits() {
    let seeds: Vec<Vec<u8>> = signal_seeds().iter().map(|r| r.encode_to_vec()).collect();
    fuzz(&seeds, |bytes| {
        if let Ok(proto::SignalRequest { message: Some(m) }) = proto::SignalRequest::decode(bytes) {
            let _ = limits::check(&m);
        }
    });
    let json: Vec<Vec<u8>> = signal_seeds()
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap())
        .collect();
    fuzz(&json, |bytes| {
        if let Ok(proto::SignalRequest { message: Some(m) }) = serde_json::from_slice(bytes) {
            let _ = limits::check(&m);
        }
    });
}

#[test]
fn join_requests_never_panic_whatever_their_bytes_or_compression() {
    let request = proto::JoinRequest {
        publisher_offer: Some(proto::SessionDescription {
            r#type: "offer".into(),
            sdp: OFFER.into(),
            id: 1,
            ..Default::default()
        }),
        ..Default::default()
    };
    let wrapped = |compression, join_request| {
        proto::WrappedJoinRequest {
            compression,
            join_request,
        }
        .encode_to_vec()
    };
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, &request.encode_to_vec()).unwrap();
    let seeds = vec![
        wrapped(0, request.encode_to_vec()),
        wrapped(1, gzip.finish().unwrap()),
    ];
    fuzz(&seeds, |bytes| {
        let _ = join::from_wrapped(&base64::engine::general_purpose::URL_SAFE.encode(bytes));
        let _ = join::from_wrapped(&String::from_utf8_lossy(bytes));
    });
    let query: HashMap<String, String> = [("auto_subscribe", "1"), ("protocol", "16")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let _ = join::from_query(&query);
}

#[test]
fn twirp_bodies_of_every_method_never_panic_the_decoder() {
    let methods = [
        "CreateRoom",
        "ListRooms",
        "DeleteRoom",
        "ListParticipants",
        "GetParticipant",
        "RemoveParticipant",
        "UpdateParticipant",
        "MutePublishedTrack",
        "UpdateSubscriptions",
        "SendData",
    ];
    let seeds = vec![
        br#"{"room":"visit-1","identity":"patient","track_sids":["TR_a"],"data":"aGk="}"#.to_vec(),
        proto::UpdateParticipantRequest {
            room: "visit-1".into(),
            identity: "patient".into(),
            metadata: "{}".into(),
            ..Default::default()
        }
        .encode_to_vec(),
    ];
    fuzz(&seeds, |bytes| {
        for method in methods {
            let _ = twirp::decode_call(method, bytes, true);
            let _ = twirp::decode_call(method, bytes, false);
        }
    });
}

#[test]
fn sdp_and_trickled_candidates_never_panic_our_code_or_str0ms_parser() {
    let seeds = vec![OFFER.as_bytes().to_vec()];
    fuzz(&seeds, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let _ = crate::sfu::sdp_text::send_sections(&text);
        let _ = crate::sfu::sdp_text::first_mid(&text);
        let _ = str0m::change::SdpOffer::from_sdp_string(&text);
        let _ = str0m::change::SdpAnswer::from_sdp_string(&text);
    });
    let candidates = vec![
        br#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0"}"#
            .to_vec(),
        br#"{"candidate":"a=candidate:2 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active"}"#
            .to_vec(),
    ];
    fuzz(&candidates, |bytes| {
        let _ = crate::sfu::parse_candidate_init(&String::from_utf8_lossy(bytes));
    });
}

#[test]
fn webhook_bodies_and_signatures_never_panic_the_receiver() {
    use livekit_api::access_token::{AccessToken, TokenVerifier};
    use livekit_api::webhooks::WebhookReceiver;
    use sha2::Digest;
    let (key, secret) = ("APIfuzz", "fuzz-secret-0123456789abcdef0123456789");
    let receiver = WebhookReceiver::new(TokenVerifier::with_api_key(key, secret));
    let now = 1_800_000_000;
    let sign = |body: &[u8]| {
        let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body));
        AccessToken::with_api_key(key, secret)
            .with_sha256(&sha)
            .to_jwt()
            .unwrap()
    };
    let seeds = vec![
        format!(
            r#"{{"event":"participant_joined","id":"EV_1","createdAt":{now},"room":{{"name":"appointment-1","sid":"RM_1"}},"participant":{{"identity":"{}","sid":"PA_1","state":"ACTIVE"}}}}"#,
            uuid::Uuid::nil()
        )
        .into_bytes(),
        format!(r#"{{"event":"room_finished","id":"EV_2","createdAt":{now},"room":{{"name":"appointment-1"}}}}"#).into_bytes(),
    ];
    // Correctly signed mutations reach the JSON decoder and our checks.
    fuzz(&seeds, |bytes| {
        let body = String::from_utf8_lossy(bytes);
        let _ =
            crate::meetings::webhook::verified_event(&receiver, &body, &sign(body.as_bytes()), now);
    });
    // Mutated signatures and headers never get past the verifier, and never panic.
    let body = String::from_utf8_lossy(&seeds[0]).into_owned();
    let auths = vec![
        sign(body.as_bytes()).into_bytes(),
        format!("Bearer {}", sign(body.as_bytes())).into_bytes(),
    ];
    fuzz(&auths, |bytes| {
        let auth = String::from_utf8_lossy(bytes);
        let verdict = crate::meetings::webhook::verified_event(&receiver, &body, &auth, now);
        if auth != String::from_utf8_lossy(&auths[0]) && auth != String::from_utf8_lossy(&auths[1])
        {
            // A changed token may still verify only if the change left the JWT intact
            // (base64 padding bits); it must never verify for another body.
            if let Ok(event) = verdict {
                assert_eq!(event.id, "EV_1");
            }
        }
    });
}
