//! Simulation tests of the SFU core: str0m peers as browsers, a virtual clock, a seeded
//! lossy network. Every scenario runs in both peer-connection modes.

#[path = "sim_harness_test.rs"]
mod harness;

#[path = "sim_adapt_test.rs"]
mod adapt;
#[path = "sim_admission_test.rs"]
mod admission;
#[path = "sim_beside_test.rs"]
mod beside;
#[path = "sim_control_test.rs"]
mod control;
#[path = "sim_metadata_test.rs"]
mod metadata;
#[path = "sim_quality_test.rs"]
mod quality;
#[path = "sim_replay_test.rs"]
mod replay;
#[path = "sim_send_beside_test.rs"]
mod send_beside;
#[path = "sim_speakers_test.rs"]
mod speakers;

use std::time::Duration;

use livekit_protocol as proto;
use proto::{participant_info, signal_request};
use str0m::media::{Direction, MediaKind};

use self::harness::{AUDIO_BYTES, LAYERS, Sim};
use super::core::PeerMode;

const MODES: [PeerMode; 2] = [PeerMode::Single, PeerMode::Dual];
const SECOND: Duration = Duration::from_secs(1);

/// Sizes of the last `n` video frames `index` received.
fn last_sizes(sim: &Sim, index: usize, n: usize) -> Vec<usize> {
    let frames = sim.clients[index].frames(MediaKind::Video);
    frames.iter().rev().take(n).map(|f| f.len).collect()
}

/// Media of `from` flows to `to` (both kinds), within the time limit.
/// The layers the publisher was last told to send (`SubscribedQualityUpdate`), by rank.
pub(crate) fn dynacast(sim: &Sim, publisher: usize) -> Option<Vec<bool>> {
    sim.clients[publisher]
        .signals
        .iter()
        .rev()
        .find_map(|s| match s {
            proto::signal_response::Message::SubscribedQualityUpdate(u) => Some(
                u.subscribed_codecs[0]
                    .qualities
                    .iter()
                    .map(|q| q.enabled)
                    .collect(),
            ),
            _ => None,
        })
}

fn wait_for_media(sim: &mut Sim, to: usize, what: &str) {
    sim.run_until(10 * SECOND, what, |s| {
        let c = &s.clients[to];
        c.frames(MediaKind::Audio).len() > 10 && c.frames(MediaKind::Video).len() > 10
    });
}

#[test]
fn a_two_party_call_forwards_audio_and_video_both_ways() {
    for mode in MODES {
        let mut sim = Sim::new(1);
        let a = sim.join("alice", "visit", mode, true);
        let b = sim.join("bob", "visit", mode, true);
        // Bob shows Alice in a 640-pixel-wide element: the h layer is enough.
        let alice = sim.core.snapshot("visit").remove(0);
        let medium = proto::UpdateTrackSettings {
            track_sids: vec![alice.published[1].clone()],
            width: 640,
            height: 360,
            ..Default::default()
        };
        sim.signal(b, signal_request::Message::TrackSetting(medium));
        wait_for_media(&mut sim, b, "bob receives alice");
        wait_for_media(&mut sim, a, "alice receives bob");
        sim.run(2 * SECOND);

        let video = sim.clients[b].frames(MediaKind::Video);
        assert!(
            video[0].keyframe,
            "{mode:?}: a subscriber's first video frame is a keyframe"
        );
        let (q_size, h_size) = (LAYERS[0].1, LAYERS[1].1);
        assert!(
            video.iter().all(|f| f.len == q_size || f.len == h_size),
            "{mode:?}: the f layer of the simulcast camera is never forwarded"
        );
        assert!(
            video.iter().rev().take(20).all(|f| f.len == h_size),
            "{mode:?}: the subscriber settles on the h layer: {:?}",
            video.iter().map(|f| f.len).collect::<Vec<_>>()
        );
        assert!(
            sim.clients[b]
                .frames(MediaKind::Audio)
                .iter()
                .all(|f| f.len == AUDIO_BYTES)
        );
        let snapshot = sim.core.snapshot("visit");
        assert_eq!(snapshot.len(), 2);
        assert!(
            snapshot
                .iter()
                .all(|p| p.published.len() == 2 && p.subscribed.len() == 2)
        );
        let delays = sim.core.stats().forward_delay;
        assert!(
            delays.audio.count() > 10,
            "{mode:?}: audio is timed apart from video: {delays:?}"
        );
        let delay = &delays.video;
        assert!(
            delay.count() > 20,
            "{mode:?}: forwarded packets are timed from arrival to departure: {delay:?}"
        );
        // Both links have room to spare, which the estimates show within seconds: then
        // nothing is paced. The simulation's clock stands still within a step, so a
        // packet that leaves in the step it arrived in is timed at zero: forwarding is
        // unpaced, and the pacer's one-microsecond steps run in the same poll (a paced
        // frame left a packet a step).
        sim.run_until(10 * SECOND, "both links are known to be wide", |s| {
            s.core.participants.values().all(|p| !p.paced_downlink)
        });
        let before = sim.core.stats().forward_delay;
        sim.run(2 * SECOND);
        let after = sim.core.stats().forward_delay;
        for (kind, before, after) in [
            ("audio", &before.audio, &after.audio),
            ("video", &before.video, &after.video),
        ] {
            let count = after.count() - before.count();
            assert!(count > 20, "{mode:?}: {kind} keeps flowing: {after:?}");
            assert_eq!(
                after.buckets[0] - before.buckets[0],
                count,
                "{mode:?}: every {kind} packet leaves the SFU in the step it arrived in: {after:?}"
            );
        }
    }
}

#[test]
fn a_late_joiner_receives_existing_tracks_starting_with_a_keyframe() {
    for mode in MODES {
        let mut sim = Sim::new(2);
        let a = sim.join("alice", "visit", mode, true);
        sim.run(3 * SECOND);
        assert!(
            sim.clients[a].sent_video_frames > 50,
            "alice has been publishing alone"
        );
        let b = sim.join("bob", "visit", mode, false);
        let joined = sim.now;
        wait_for_media(&mut sim, b, "late joiner receives alice");

        let first = sim.clients[b].frames(MediaKind::Video)[0].clone();
        assert!(
            first.keyframe,
            "{mode:?}: the late joiner's first frame is a keyframe"
        );
        assert!(
            first.at - joined < 2 * SECOND,
            "{mode:?}: the keyframe arrives quickly ({:?})",
            first.at - joined
        );
        let join = sim.clients[b].signals.iter().find_map(|s| match s {
            proto::signal_response::Message::Join(j) => Some(j.clone()),
            _ => None,
        });
        let join = join.expect("a join response");
        assert_eq!(join.other_participants.len(), 1);
        assert_eq!(
            join.other_participants[0].tracks.len(),
            2,
            "existing tracks are announced"
        );
    }
}

#[test]
fn keyframe_requests_reach_only_the_tracks_publisher() {
    for mode in MODES {
        let mut sim = Sim::new(3);
        let a = sim.join("alice", "visit", mode, true);
        let b = sim.join("bob", "visit", mode, false);
        let c = sim.join("carol", "visit", mode, true);
        wait_for_media(&mut sim, b, "bob receives");
        // Nobody watches carol's camera, so nothing else (layer switches) asks her for
        // keyframes while we look.
        let carol = sim
            .core
            .snapshot("visit")
            .into_iter()
            .find(|p| p.identity == "carol");
        let carol_video = carol.expect("carol in the room").published[1].clone();
        for viewer in [a, b] {
            let off = proto::UpdateTrackSettings {
                track_sids: vec![carol_video.clone()],
                disabled: true,
                ..Default::default()
            };
            sim.signal(viewer, signal_request::Message::TrackSetting(off));
        }
        sim.run(2 * SECOND);
        sim.clients[a].keyframe_requests = 0;
        sim.clients[c].keyframe_requests = 0;

        // Bob's decoder asks for a keyframe of Alice's camera.
        let alice_video = alice_video_mid_at(&sim, b);
        sim.request_keyframe(b, alice_video);
        sim.run(SECOND);

        assert!(
            sim.clients[a].keyframe_requests >= 1,
            "{mode:?}: alice is asked"
        );
        assert_eq!(
            sim.clients[c].keyframe_requests, 0,
            "{mode:?}: carol is not"
        );
    }
}

/// The mid on which `index` receives Alice's video (from the SFU's mid_to_track_id).
fn alice_video_mid_at(sim: &Sim, index: usize) -> str0m::media::Mid {
    let alice = sim
        .core
        .snapshot("visit")
        .into_iter()
        .find(|p| p.identity == "alice");
    let alice = alice.expect("alice in the room");
    let video_sid = &alice.published[1];
    sim.clients[index]
        .signals
        .iter()
        .rev()
        .find_map(|s| match s {
            proto::signal_response::Message::Answer(d)
            | proto::signal_response::Message::Offer(d) => d
                .mid_to_track_id
                .iter()
                .find(|(_, t)| *t == video_sid)
                .map(|(m, _)| str0m::media::Mid::from(m.as_str())),
            _ => None,
        })
        .expect("alice's video has a mid")
}

#[test]
fn a_leaving_participant_is_announced_and_its_down_tracks_are_torn_down() {
    for mode in MODES {
        let mut sim = Sim::new(4);
        let a = sim.join("alice", "visit", mode, true);
        let b = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, b, "bob receives alice");
        let mid = alice_video_mid_at(&sim, b);

        sim.signal(
            a,
            signal_request::Message::Leave(proto::LeaveRequest::default()),
        );
        sim.run(2 * SECOND);

        let last = sim.clients[b]
            .updates_about("alice")
            .pop()
            .expect("an update about alice");
        assert_eq!(
            last.state,
            participant_info::State::Disconnected as i32,
            "{mode:?}"
        );
        let snapshot = sim.core.snapshot("visit");
        assert_eq!(snapshot.len(), 1);
        assert!(
            snapshot[0].subscribed.is_empty(),
            "{mode:?}: bob has no down tracks left"
        );
        let media = sim.clients[b]
            .receiving_rtc()
            .media(mid)
            .map(|m| (m.direction(), m.disabled()));
        assert!(
            matches!(
                media,
                Some((Direction::Inactive, _)) | Some((_, true)) | None
            ),
            "{mode:?}: the section carrying alice's video is released: {media:?}"
        );
        let received = sim.clients[b].frames(MediaKind::Video).len();
        sim.run(SECOND);
        assert_eq!(
            sim.clients[b].frames(MediaKind::Video).len(),
            received,
            "nothing more arrives"
        );
    }
}

#[test]
fn a_call_survives_five_percent_loss_in_every_direction() {
    for mode in MODES {
        let mut sim = Sim::new(5);
        let a = sim.join("alice", "visit", mode, true);
        let b = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, b, "media flows");
        // The call is up; from now on every link loses 5% of its datagrams (seeded).
        sim.loss = 0.05;
        sim.run(SECOND);
        let (sent_before, got_before) = (
            sim.clients[a].sent_video_frames,
            sim.clients[b].frames(MediaKind::Video).len(),
        );
        let audio_before = (
            sim.clients[a].sent_audio_frames,
            sim.clients[b].frames(MediaKind::Audio).len(),
        );
        sim.run(10 * SECOND);
        let sent = sim.clients[a].sent_video_frames - sent_before;
        let got = (sim.clients[b].frames(MediaKind::Video).len() - got_before) as u64;
        let audio_sent = sim.clients[a].sent_audio_frames - audio_before.0;
        let audio_got = (sim.clients[b].frames(MediaKind::Audio).len() - audio_before.1) as u64;
        assert!(
            got * 100 >= sent * 90,
            "{mode:?}: video recovers by NACK/RTX: {got} of {sent} frames"
        );
        assert!(
            audio_got * 100 >= audio_sent * 80,
            "{mode:?}: audio mostly arrives: {audio_got} of {audio_sent}"
        );
        // Repair is per hop: the subscriber's NACKs end at the SFU, which resends from
        // its own RTX cache (the publisher never sees them).
        let nacks: u64 = sim
            .core
            .stats()
            .rooms
            .iter()
            .flat_map(|r| &r.participants)
            .map(|p| p.nacks)
            .sum();
        assert!(
            nacks > 0,
            "{mode:?}: the subscriber's NACKs reached the SFU"
        );
    }
}

#[test]
fn malformed_signaling_closes_only_that_participant() {
    for mode in MODES {
        let mut sim = Sim::new(6);
        let _a = sim.join("alice", "visit", mode, true);
        let b = sim.join("bob", "visit", mode, false);
        let c = sim.join("carol", "visit", mode, false);
        wait_for_media(&mut sim, b, "bob receives");

        // Harmless oddities are ignored: unknown track ids, answers to no offer.
        let mute = proto::MuteTrackRequest {
            sid: "TR_unknown".into(),
            muted: true,
        };
        sim.signal(c, signal_request::Message::Mute(mute));
        let stray = proto::SessionDescription {
            r#type: "answer".into(),
            sdp: "v=0".into(),
            id: 99,
            ..Default::default()
        };
        sim.signal(c, signal_request::Message::Answer(stray));
        assert!(
            !sim.clients[c].closed,
            "{mode:?}: carol survives harmless oddities"
        );

        // A broken offer closes bob, and only bob.
        let bad = proto::SessionDescription {
            r#type: "offer".into(),
            sdp: "this is not sdp".into(),
            id: 7,
            ..Default::default()
        };
        sim.signal(b, signal_request::Message::Offer(bad));
        assert!(sim.clients[b].closed, "{mode:?}: bob is closed");
        let before = sim.clients[c].frames(MediaKind::Video).len();
        sim.run(2 * SECOND);
        assert!(
            sim.clients[c].frames(MediaKind::Video).len() > before + 20,
            "{mode:?}: carol still receives alice"
        );
        let identities: Vec<String> = sim
            .core
            .snapshot("visit")
            .into_iter()
            .map(|p| p.identity)
            .collect();
        assert_eq!(identities, ["alice", "carol"]);
    }
}

#[test]
fn data_packets_reach_the_addressed_participants_stamped_with_the_sender() {
    for mode in MODES {
        let mut sim = Sim::new(7);
        let a = sim.join("alice", "visit", mode, true);
        let b = sim.join("bob", "visit", mode, false);
        let c = sim.join("carol", "visit", mode, false);
        wait_for_media(&mut sim, c, "everyone connected");
        sim.run(SECOND);

        sim.send_data(a, b"to everyone", &[]);
        sim.send_data(a, b"to bob", &["bob"]);
        sim.run(SECOND);

        let payloads = |i: usize| -> Vec<Vec<u8>> {
            sim.clients[i]
                .data
                .iter()
                .filter_map(|p| match &p.value {
                    Some(proto::data_packet::Value::User(u)) => Some(u.payload.clone()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            payloads(b),
            vec![b"to everyone".to_vec(), b"to bob".to_vec()],
            "{mode:?}"
        );
        assert_eq!(payloads(c), vec![b"to everyone".to_vec()], "{mode:?}");
        assert!(payloads(a).is_empty(), "{mode:?}: not echoed to the sender");
        assert!(
            sim.clients[b]
                .data
                .iter()
                .all(|p| p.participant_identity == "alice")
        );
    }
}

#[test]
fn a_second_session_with_the_same_identity_replaces_the_first() {
    let mut sim = Sim::new(8);
    let first = sim.join("alice", "visit", PeerMode::Single, false);
    let _second = sim.join("alice", "visit", PeerMode::Single, false);
    assert!(sim.clients[first].closed, "the old session is closed");
    assert_eq!(sim.core.snapshot("visit").len(), 1);
}

#[test]
fn an_empty_room_closes_after_its_grace_period() {
    let mut sim = Sim::new(9);
    let a = sim.join("alice", "visit", PeerMode::Single, false);
    sim.signal(
        a,
        signal_request::Message::Leave(proto::LeaveRequest::default()),
    );
    sim.run(10 * SECOND);
    assert_eq!(
        sim.core.room_names(),
        ["visit"],
        "kept during the grace period"
    );
    sim.run(15 * SECOND);
    assert!(sim.core.room_names().is_empty(), "closed after it");
}

#[test]
fn media_flows_when_the_socket_is_bound_to_another_address_than_the_advertised_one() {
    // bind 0.0.0.0 with a public address advertised, and a private address behind 1:1 NAT.
    for local in ["0.0.0.0:7882", "192.168.7.10:7882"] {
        let public = "203.0.113.5:7882".parse().unwrap();
        let mut sim = Sim::with_addresses(9, public, local.parse().unwrap());
        let a = sim.join("alice", "visit", PeerMode::Single, true);
        let b = sim.join("bob", "visit", PeerMode::Single, true);
        wait_for_media(&mut sim, b, "bob receives alice");
        wait_for_media(&mut sim, a, "alice receives bob");
    }
}
