//! Simulation tests of the SFU under control: live permissions, bandwidth adaptation,
//! paused subscriptions, session resume.

use super::*;

#[test]
fn a_publish_permission_granted_live_lets_the_participant_publish_and_revoking_it_unpublishes() {
    use crate::room_service::{RoomServiceCall, RoomServiceReply};
    for mode in MODES {
        let mut sim = Sim::new(10);
        let a = sim.join("alice", "visit", mode, false);
        let b = sim.join_as("bob", "visit", mode, true, false);
        sim.run(SECOND);
        assert!(
            sim.core.snapshot("visit")[1].published.is_empty(),
            "{mode:?}: bob may not publish"
        );

        let permission = |can_publish: bool| proto::ParticipantPermission {
            can_publish,
            can_subscribe: true,
            can_publish_data: true,
            ..Default::default()
        };
        let update = |can_publish| {
            RoomServiceCall::UpdateParticipant(proto::UpdateParticipantRequest {
                room: "visit".into(),
                identity: "bob".into(),
                permission: Some(permission(can_publish)),
                ..Default::default()
            })
        };
        let reply = sim.core.room_service(sim.now, 0, update(true));
        assert!(matches!(reply, Ok(RoomServiceReply::Participant(_))));
        sim.publish(b);
        wait_for_media(&mut sim, a, "alice receives bob after the grant");

        let reply = sim.core.room_service(sim.now, 0, update(false));
        assert!(reply.is_ok());
        sim.run(SECOND);
        let snapshot = sim.core.snapshot("visit");
        assert!(
            snapshot[1].published.is_empty(),
            "{mode:?}: bob's tracks are unpublished"
        );
        assert!(
            snapshot[0].subscribed.is_empty(),
            "{mode:?}: alice's down tracks are gone"
        );
        let unpublished = sim.clients[b]
            .signals
            .iter()
            .filter(|s| matches!(s, proto::signal_response::Message::TrackUnpublished(_)))
            .count();
        assert_eq!(unpublished, 2, "{mode:?}: bob is told of both tracks");
    }
}

#[test]
fn a_constrained_subscriber_settles_low_and_climbs_back_while_an_unconstrained_one_stays_high() {
    let (q, h, f) = (LAYERS[0].1, LAYERS[1].1, LAYERS[2].1);
    for mode in MODES {
        let mut sim = Sim::new(11);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        let carol = sim.join("carol", "visit", mode, false);
        wait_for_media(&mut sim, carol, "carol receives");
        sim.run(10 * SECOND);
        assert!(
            last_sizes(&sim, carol, 20).iter().all(|s| *s == f),
            "{mode:?}: an unconstrained subscriber ramps up to the high layer: {:?}",
            last_sizes(&sim, carol, 20)
        );

        // Bob's downlink drops to 600 kbit/s: within 5 s he is on the low layer.
        sim.limit_downlink(bob, Some(600_000));
        let before = sim.clients[bob].frames(MediaKind::Video).len();
        let sent_before = sim.clients[alice].sent_video_frames;
        sim.run(5 * SECOND);
        assert!(
            last_sizes(&sim, bob, 20).iter().all(|s| *s == q),
            "{mode:?}: the constrained subscriber settles on the low layer: {:?}",
            last_sizes(&sim, bob, 20)
        );
        let got = (sim.clients[bob].frames(MediaKind::Video).len() - before) as u64;
        let sent = sim.clients[alice].sent_video_frames - sent_before;
        assert!(
            got * 100 >= sent * 60,
            "{mode:?}: no freeze while adapting ({got} of {sent})"
        );
        assert!(
            last_sizes(&sim, carol, 20).iter().all(|s| *s == f),
            "{mode:?}: the unconstrained subscriber stays high"
        );
        // Dynacast: alice is told that only the low and high layers are watched now.
        let qualities = dynacast(&sim, alice);
        assert_eq!(
            qualities,
            Some(vec![true, false, true]),
            "{mode:?}: dynacast"
        );

        // The limit lifts: bob climbs back.
        sim.limit_downlink(bob, None);
        sim.run(20 * SECOND);
        let recovered = last_sizes(&sim, bob, 20);
        assert!(
            recovered.iter().all(|s| *s == h || *s == f),
            "{mode:?}: the subscriber climbs back up: {recovered:?}"
        );
        // Bob went down and came back up; every switch of the loss-free subscriber (carol
        // ramping up) continues the sequence numbers without a gap.
        let switches = |index: usize| -> Vec<bool> {
            let frames = sim.clients[index].frames(MediaKind::Video);
            frames
                .windows(2)
                .filter(|w| w[0].len != w[1].len)
                .map(|w| w[1].contiguous)
                .collect()
        };
        assert!(
            switches(bob).len() >= 2,
            "{mode:?}: bob switched down and up"
        );
        let carol_switches = switches(carol);
        assert!(
            !carol_switches.is_empty(),
            "{mode:?}: carol ramped up through layers"
        );
        assert!(
            carol_switches.iter().all(|c| *c),
            "{mode:?}: continuous at each switch: {carol_switches:?}"
        );
        let frames = sim.clients[carol].frames(MediaKind::Video);
        for client in [bob, carol] {
            let frames = sim.clients[client].frames(MediaKind::Video);
            assert!(
                frames.windows(2).all(|w| w[1].rtp_time > w[0].rtp_time),
                "{mode:?}: RTP times only move forward, across every switch"
            );
            let ids: Vec<u64> = frames.iter().filter_map(|f| f.picture_id).collect();
            assert!(
                ids.windows(2).all(|w| w[1] > w[0]),
                "{mode:?}: picture ids only move forward, across every switch"
            );
        }
        let gaps = frames.iter().filter(|f| !f.contiguous).count();
        assert!(
            gaps <= 1,
            "{mode:?}: sequence numbers stay continuous across switches ({gaps} gaps)"
        );
    }
}

#[test]
fn a_disabled_subscription_receives_no_video() {
    let mut sim = Sim::new(12);
    let _alice = sim.join("alice", "visit", PeerMode::Single, true);
    let bob = sim.join("bob", "visit", PeerMode::Single, false);
    wait_for_media(&mut sim, bob, "bob receives");
    let alice = sim.core.snapshot("visit").remove(0);
    let off = proto::UpdateTrackSettings {
        track_sids: vec![alice.published[1].clone()],
        disabled: true,
        ..Default::default()
    };
    sim.signal(bob, signal_request::Message::TrackSetting(off));
    sim.run(SECOND);
    let video = sim.clients[bob].frames(MediaKind::Video).len();
    let audio = sim.clients[bob].frames(MediaKind::Audio).len();
    sim.run(3 * SECOND);
    assert_eq!(
        sim.clients[bob].frames(MediaKind::Video).len(),
        video,
        "no video while paused"
    );
    assert!(
        sim.clients[bob].frames(MediaKind::Audio).len() > audio + 100,
        "audio flows on"
    );
}

#[test]
fn a_dropped_signaling_socket_resumes_without_anyone_seeing_a_leave() {
    for mode in MODES {
        let mut sim = Sim::new(13);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");
        let bob_sid = sim.core.snapshot("visit")[1].sid.clone();

        sim.drop_signal(bob);
        sim.run(2 * SECOND);
        let before = sim.clients[bob].frames(MediaKind::Video).len();
        sim.resume(bob, "visit", &bob_sid);
        let resumed = sim.clients[bob]
            .signals
            .iter()
            .any(|s| matches!(s, proto::signal_response::Message::Reconnect(_)));
        assert!(resumed, "{mode:?}: bob gets a ReconnectResponse");
        sim.run(3 * SECOND);

        assert!(
            sim.clients[alice]
                .updates_about("bob")
                .iter()
                .all(|p| p.state != participant_info::State::Disconnected as i32)
        );
        assert_eq!(
            sim.core.snapshot("visit")[1].sid,
            bob_sid,
            "{mode:?}: the same session"
        );
        assert!(
            sim.clients[bob].frames(MediaKind::Video).len() > before + 50,
            "{mode:?}: media flows on"
        );
    }
}

#[test]
fn a_session_not_resumed_in_time_leaves_and_an_unknown_one_is_told_to_rejoin() {
    let mut sim = Sim::new(14);
    let alice = sim.join("alice", "visit", PeerMode::Single, true);
    let bob = sim.join("bob", "visit", PeerMode::Single, false);
    wait_for_media(&mut sim, bob, "bob receives");
    let bob_sid = sim.core.snapshot("visit")[1].sid.clone();
    sim.drop_signal(bob);
    sim.run(20 * SECOND);
    let last = sim.clients[alice]
        .updates_about("bob")
        .pop()
        .expect("an update about bob");
    assert_eq!(last.state, participant_info::State::Disconnected as i32);

    sim.resume(bob, "visit", &bob_sid);
    let leave = sim.clients[bob].signals.iter().rev().find_map(|s| match s {
        proto::signal_response::Message::Leave(l) => Some(l.clone()),
        _ => None,
    });
    let leave = leave.expect("a leave");
    assert_eq!(
        leave.action,
        proto::leave_request::Action::Reconnect as i32,
        "rejoin from scratch"
    );
}

#[test]
fn a_stopping_server_tells_everyone_to_rejoin_and_empties_its_rooms() {
    let mut sim = Sim::new(15);
    let alice = sim.join("alice", "visit", PeerMode::Single, true);
    let bob = sim.join("bob", "visit", PeerMode::Dual, false);
    wait_for_media(&mut sim, bob, "bob receives");
    sim.core
        .handle_input(sim.now, crate::core::CoreInput::Shutdown);
    sim.run(SECOND);
    for client in [alice, bob] {
        let leave = sim.clients[client]
            .signals
            .iter()
            .rev()
            .find_map(|s| match s {
                proto::signal_response::Message::Leave(l) => Some(l.clone()),
                _ => None,
            });
        let leave = leave.expect("a leave");
        assert_eq!(leave.action, proto::leave_request::Action::Reconnect as i32);
        assert_eq!(leave.reason, proto::DisconnectReason::ServerShutdown as i32);
        assert!(sim.clients[client].closed);
    }
    assert!(sim.core.snapshot("visit").is_empty());
}

#[test]
fn narrowing_the_publish_sources_live_unpublishes_only_the_tracks_now_forbidden() {
    use crate::room_service::RoomServiceCall;
    let mut sim = Sim::new(12);
    let a = sim.join("alice", "visit", PeerMode::Single, true);
    let _b = sim.join("bob", "visit", PeerMode::Single, true);
    wait_for_media(&mut sim, a, "alice receives bob");
    let microphone_only = RoomServiceCall::UpdateParticipant(proto::UpdateParticipantRequest {
        room: "visit".into(),
        identity: "bob".into(),
        permission: Some(proto::ParticipantPermission {
            can_publish: true,
            can_subscribe: true,
            can_publish_data: true,
            can_publish_sources: vec![proto::TrackSource::Microphone as i32],
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(sim.core.room_service(sim.now, 0, microphone_only).is_ok());
    sim.run(SECOND);
    let bob = &sim.core.snapshot("visit")[1];
    assert_eq!(
        bob.published.len(),
        1,
        "the camera is gone, the microphone stays"
    );
    let heard_before = sim.clients[a].frames(MediaKind::Audio).len();
    sim.run(SECOND);
    assert!(sim.clients[a].frames(MediaKind::Audio).len() > heard_before);
}

#[test]
fn a_subscription_permission_limits_who_receives_a_publishers_tracks_live() {
    use proto::signal_response::Message as R;
    let mut sim = Sim::new(13);
    let alice = sim.join("alice", "visit", PeerMode::Single, false);
    let carol = sim.join("carol", "visit", PeerMode::Single, false);
    let bob = sim.join("bob", "visit", PeerMode::Single, true);
    wait_for_media(&mut sim, carol, "carol receives bob");
    let subscribed = |sim: &Sim, who: &str| {
        let snapshot = sim.core.snapshot("visit");
        snapshot
            .iter()
            .find(|p| p.identity == who)
            .map(|p| p.subscribed.len())
            .unwrap_or(0)
    };
    let only_alice = proto::SubscriptionPermission {
        all_participants: false,
        track_permissions: vec![proto::TrackPermission {
            participant_identity: "alice".into(),
            all_tracks: true,
            ..Default::default()
        }],
    };
    sim.signal(
        bob,
        signal_request::Message::SubscriptionPermission(only_alice),
    );
    sim.run(SECOND);
    assert_eq!(subscribed(&sim, "alice"), 2, "alice keeps bob's tracks");
    assert_eq!(subscribed(&sim, "carol"), 0, "carol loses them");
    let told = |sim: &Sim, allowed: bool| {
        sim.clients[carol]
            .signals
            .iter()
            .filter(|s| matches!(s, R::SubscriptionPermissionUpdate(u) if u.allowed == allowed))
            .count()
    };
    assert_eq!(told(&sim, false), 2, "and is told, track by track");
    let _ = alice;

    let everyone = proto::SubscriptionPermission {
        all_participants: true,
        track_permissions: vec![],
    };
    let heard = sim.clients[carol].frames(MediaKind::Video).len();
    sim.signal(
        bob,
        signal_request::Message::SubscriptionPermission(everyone),
    );
    sim.run_until(10 * SECOND, "carol receives bob again", |s| {
        s.clients[carol].frames(MediaKind::Video).len() > heard + 10
    });
    assert_eq!(subscribed(&sim, "carol"), 2);
    assert_eq!(told(&sim, true), 2);
}

#[test]
fn a_waiting_patient_admitted_at_any_moment_of_their_first_negotiation_receives_media() {
    // A clinician admitting the moment the patient shows up: the grant can land before,
    // during or after the patient's first offer/answer and ICE/DTLS.
    for mode in MODES {
        for delay_ms in [0, 5, 20, 50, 100, 200, 400, 800, 1500] {
            let mut sim = Sim::new(21 + delay_ms);
            let clinician = sim.join("clinician", "visit", mode, true);
            sim.run(SECOND);
            let patient = sim.join_waiting("patient", "visit", mode);
            sim.run(Duration::from_millis(delay_ms));
            sim.admit("patient");
            sim.run_until(
                5 * SECOND,
                &format!("{mode:?}: the patient admitted after {delay_ms} ms receives media"),
                |s| {
                    let c = &s.clients[patient];
                    c.frames(MediaKind::Audio).len() > 10 && c.frames(MediaKind::Video).len() > 10
                },
            );
            let _ = clinician;
        }
    }
}
