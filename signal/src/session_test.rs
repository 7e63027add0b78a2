use super::*;

fn frame(message: signal_response::Message) -> Vec<u8> {
    proto::SignalResponse {
        message: Some(message),
    }
    .encode_to_vec()
}

fn sent(session: &mut Session) -> Vec<signal_request::Message> {
    std::iter::from_fn(|| session.poll_transmit())
        .map(|bytes| {
            proto::SignalRequest::decode(bytes.as_slice())
                .unwrap()
                .message
                .unwrap()
        })
        .collect()
}

fn events(session: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn me(identity: &str, can_publish: bool) -> proto::ParticipantInfo {
    proto::ParticipantInfo {
        identity: identity.into(),
        permission: Some(proto::ParticipantPermission {
            can_publish,
            can_subscribe: true,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn joined(now_ms: u64) -> Session {
    let mut session = Session::new(now_ms, true);
    let join = proto::JoinResponse {
        participant: Some(me("patient-1", false)),
        ping_interval: 2,
        ping_timeout: 6,
        ..Default::default()
    };
    session
        .handle_frame(now_ms, &frame(signal_response::Message::Join(join)))
        .unwrap();
    events(&mut session);
    session
}

#[test]
fn the_join_response_comes_first_and_sets_the_keep_alive_and_our_identity() {
    let mut session = Session::new(0, true);
    let join = proto::JoinResponse {
        participant: Some(me("patient-1", false)),
        ping_interval: 2,
        ping_timeout: 6,
        ..Default::default()
    };
    session
        .handle_frame(0, &frame(signal_response::Message::Join(join)))
        .unwrap();
    assert!(session.is_joined());
    assert!(matches!(
        events(&mut session).as_slice(),
        [Event::Joined(_)]
    ));
    assert_eq!(session.poll_timeout(), Some(2_000));
    assert_eq!(session.permission().map(|p| p.can_publish), Some(false));
}

#[test]
fn anything_but_a_join_first_and_malformed_frames_are_refused_without_changing_state() {
    let mut session = Session::new(0, false);
    let update = frame(signal_response::Message::Update(
        proto::ParticipantUpdate::default(),
    ));
    assert_eq!(
        session.handle_frame(0, &update),
        Err(SignalError::NoJoinResponse)
    );
    assert_eq!(
        session.handle_frame(0, b"\xff\xff\xff"),
        Err(SignalError::Undecodable)
    );
    assert_eq!(
        session.handle_frame(0, &proto::SignalResponse { message: None }.encode_to_vec()),
        Err(SignalError::Empty)
    );
    assert!(!session.is_joined());
    assert!(events(&mut session).is_empty());
    // A leave before the join is still heard (the server refused us).
    let leave = proto::LeaveRequest {
        action: proto::leave_request::Action::Disconnect as i32,
        ..Default::default()
    };
    session
        .handle_frame(0, &frame(signal_response::Message::Leave(leave)))
        .unwrap();
    assert!(matches!(events(&mut session).as_slice(), [Event::Leave(_)]));
}

#[test]
fn only_the_answer_to_the_latest_offer_is_applied() {
    let mut session = joined(0);
    // The join carried offer 1; two renegotiations follow.
    let first = session.send_offer("offer-2");
    let second = session.send_offer("offer-3");
    assert_eq!((first, second), (2, 3));
    let offers: Vec<u32> = sent(&mut session)
        .into_iter()
        .filter_map(|m| match m {
            signal_request::Message::Offer(o) => Some(o.id),
            _ => None,
        })
        .collect();
    assert_eq!(offers, [2, 3]);
    let answer = |id: u32| {
        frame(signal_response::Message::Answer(
            proto::SessionDescription {
                r#type: "answer".into(),
                sdp: format!("answer-{id}"),
                id,
                ..Default::default()
            },
        ))
    };
    session.handle_frame(10, &answer(2)).unwrap();
    assert!(events(&mut session).is_empty(), "a stale answer is ignored");
    session.handle_frame(11, &answer(3)).unwrap();
    assert!(matches!(
        events(&mut session).as_slice(),
        [Event::Answer { id: 3, .. }]
    ));
    session.handle_frame(12, &answer(3)).unwrap();
    assert!(events(&mut session).is_empty(), "an answer applies once");
}

#[test]
fn remote_candidates_wait_for_their_connections_remote_description_and_keep_their_order() {
    let mut session = joined(0);
    let trickle = |candidate: &str, target: Target| {
        frame(signal_response::Message::Trickle(proto::TrickleRequest {
            candidate_init: candidate.into(),
            target: target.wire(),
            r#final: false,
        }))
    };
    session
        .handle_frame(1, &trickle("c1", Target::Publisher))
        .unwrap();
    session
        .handle_frame(2, &trickle("s1", Target::Subscriber))
        .unwrap();
    session
        .handle_frame(3, &trickle("c2", Target::Publisher))
        .unwrap();
    assert!(events(&mut session).is_empty());

    session.remote_description_set(Target::Publisher);
    let released: Vec<(Target, String)> = events(&mut session)
        .into_iter()
        .map(|e| match e {
            Event::RemoteCandidate {
                target,
                candidate_init,
            } => (target, candidate_init),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        released,
        [
            (Target::Publisher, "c1".to_owned()),
            (Target::Publisher, "c2".to_owned())
        ]
    );
    // Candidates arriving after the description apply at once.
    session
        .handle_frame(4, &trickle("c3", Target::Publisher))
        .unwrap();
    assert!(matches!(
        events(&mut session).as_slice(),
        [Event::RemoteCandidate { .. }]
    ));
    // A new offer (ICE restart) holds them again until its answer is applied.
    session.send_offer("restart");
    session
        .handle_frame(5, &trickle("c4", Target::Publisher))
        .unwrap();
    assert!(events(&mut session).is_empty());
    session.remote_description_set(Target::Subscriber);
    assert!(matches!(
        events(&mut session).as_slice(),
        [Event::RemoteCandidate {
            target: Target::Subscriber,
            ..
        }]
    ));
}

#[test]
fn pings_go_out_on_the_servers_interval_and_the_pong_gives_the_round_trip_time() {
    let mut session = joined(1_000);
    session.handle_timeout(2_500);
    assert!(sent(&mut session).is_empty(), "not due yet");
    session.handle_timeout(3_000);
    let pings = sent(&mut session);
    assert!(matches!(
        pings.as_slice(),
        [
            signal_request::Message::Ping(3_000),
            signal_request::Message::PingReq(proto::Ping {
                timestamp: 3_000,
                ..
            })
        ]
    ));
    let pong = frame(signal_response::Message::PongResp(proto::Pong {
        last_ping_timestamp: 3_000,
        timestamp: 99,
    }));
    session.handle_frame(3_042, &pong).unwrap();
    assert_eq!(events(&mut session), [Event::Rtt(42)]);
    assert_eq!(session.poll_timeout(), Some(5_000));
}

#[test]
fn silence_past_the_ping_timeout_is_reported_once_as_a_lost_signal() {
    let mut session = joined(0);
    session.handle_timeout(5_999);
    assert!(!events(&mut session).contains(&Event::SignalLost));
    session.handle_timeout(6_000);
    assert_eq!(events(&mut session), [Event::SignalLost]);
    session.handle_timeout(9_000);
    assert!(events(&mut session).is_empty());
    assert_eq!(session.poll_timeout(), None);
}

#[test]
fn a_live_grant_for_our_identity_is_reported_as_a_permission_change_and_others_are_not() {
    let mut session = joined(0);
    let update = |participants: Vec<proto::ParticipantInfo>| {
        frame(signal_response::Message::Update(proto::ParticipantUpdate {
            participants,
        }))
    };
    session
        .handle_frame(1, &update(vec![me("clinician-1", true)]))
        .unwrap();
    assert!(matches!(
        events(&mut session).as_slice(),
        [Event::Participants(_)]
    ));
    session
        .handle_frame(2, &update(vec![me("patient-1", true)]))
        .unwrap();
    let got = events(&mut session);
    assert!(
        matches!(got.as_slice(), [Event::PermissionChanged(p), Event::Participants(_)] if p.can_publish)
    );
    assert_eq!(session.permission().map(|p| p.can_publish), Some(true));
    session
        .handle_frame(3, &update(vec![me("patient-1", true)]))
        .unwrap();
    assert!(
        matches!(events(&mut session).as_slice(), [Event::Participants(_)]),
        "unchanged: no event"
    );
}

#[test]
fn a_resumed_session_expects_the_reconnect_response_and_keeps_the_offer_ids() {
    let mut first = joined(0);
    first.send_offer("offer-2");
    let mut resumed = Session::resuming(&first, 10_000);
    let join = frame(signal_response::Message::Join(
        proto::JoinResponse::default(),
    ));
    assert_eq!(
        resumed.handle_frame(10_001, &join),
        Err(SignalError::NoJoinResponse)
    );
    let reconnect = frame(signal_response::Message::Reconnect(
        proto::ReconnectResponse::default(),
    ));
    resumed.handle_frame(10_002, &reconnect).unwrap();
    assert!(resumed.is_joined());
    assert!(matches!(
        events(&mut resumed).as_slice(),
        [Event::Resumed(_)]
    ));
    assert_eq!(resumed.send_offer("restart"), 3);
    assert_eq!(resumed.permission(), first.permission());
}

#[test]
fn requests_are_encoded_as_the_server_expects() {
    let mut session = joined(0);
    session.add_track(proto::AddTrackRequest {
        cid: "cam".into(),
        name: "camera".into(),
        ..Default::default()
    });
    session.mute("TR_1", true);
    session.update_track_settings("TR_2", false, 320, 180);
    session.update_subscription(vec!["TR_3".into()], false);
    session.send_candidate(Target::Publisher, "{\"candidate\":\"c\"}", false);
    session.send_answer("answer", 7);
    session.leave();
    let kinds: Vec<&'static str> = sent(&mut session)
        .iter()
        .map(|m| match m {
            signal_request::Message::AddTrack(r) if r.cid == "cam" => "add_track",
            signal_request::Message::Mute(r) if r.sid == "TR_1" && r.muted => "mute",
            signal_request::Message::TrackSetting(r) if r.width == 320 && !r.disabled => {
                "track_setting"
            }
            signal_request::Message::Subscription(r) if !r.subscribe => "subscription",
            signal_request::Message::Trickle(r)
                if r.target == proto::SignalTarget::Publisher as i32 =>
            {
                "trickle"
            }
            signal_request::Message::Answer(r) if r.id == 7 => "answer",
            signal_request::Message::Leave(_) => "leave",
            _ => "unexpected",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "add_track",
            "mute",
            "track_setting",
            "subscription",
            "trickle",
            "answer",
            "leave"
        ]
    );
}

#[test]
fn arbitrary_bytes_never_panic_the_session() {
    let mut session = joined(0);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..2000u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let length = (state % 64) as usize;
        let bytes: Vec<u8> = (0..length)
            .map(|i| (state >> (i % 8 * 8)) as u8 ^ i as u8)
            .collect();
        let _ = session.handle_frame(round, &bytes);
        while session.poll_event().is_some() {}
    }
}
