use std::time::Instant;

use livekit_protocol as proto;
use proto::signal_request::Message as M;

use super::*;

fn add_track(name_len: usize) -> M {
    M::AddTrack(proto::AddTrackRequest {
        cid: "TR_local".into(),
        name: "x".repeat(name_len),
        r#type: proto::TrackType::Video as i32,
        ..Default::default()
    })
}

#[test]
fn an_ordinary_add_track_passes_and_a_60_kb_name_does_not() {
    assert_eq!(check(&add_track(20)), Ok(()));
    assert!(check(&add_track(300)).is_err());
    assert!(check(&add_track(60_000)).is_err());
}

#[test]
fn an_sdp_may_be_larger_than_other_messages_but_not_unbounded() {
    let offer = |len| {
        M::Offer(proto::SessionDescription {
            r#type: "offer".into(),
            sdp: "v".repeat(len),
            ..Default::default()
        })
    };
    assert_eq!(check(&offer(40_000)), Ok(()));
    assert!(check(&offer(200_000)).is_err());
    let metadata = M::UpdateMetadata(proto::UpdateParticipantMetadata {
        metadata: "m".repeat(40_000),
        ..Default::default()
    });
    assert!(check(&metadata).is_err());
}

#[test]
fn subscription_requests_with_thousands_of_made_up_sids_are_refused() {
    let update = |n: usize| {
        M::Subscription(proto::UpdateSubscription {
            track_sids: (0..n).map(|i| format!("TR_{i}")).collect(),
            subscribe: false,
            ..Default::default()
        })
    };
    assert_eq!(check(&update(3)), Ok(()));
    assert!(check(&update(1000)).is_err());
}

#[test]
fn a_burst_of_messages_passes_and_a_flood_is_cut_off_then_the_bucket_refills() {
    let t0 = Instant::now();
    let mut rate = MessageRate::new(t0);
    let passed = (0..1000).filter(|_| rate.take(t0).is_ok()).count();
    assert_eq!(passed, 200);
    assert!(rate.take(t0 + full_refill()).is_ok());
}
