//! One suite, both stores: the in-memory one and Redis at `REDIS_URL` (default
//! 127.0.0.1:6379, the machine's real server). Each test uses fresh meeting ids, so
//! runs never see each other's keys.

use std::time::Duration;

use futures_util::StreamExt;
use uuid::Uuid;

use super::memory::MemoryWaitingRoom;
use super::redis::RedisWaitingRoom;
use super::{Decision, MeetingEvent, WaitingRoomStore};

async fn redis() -> RedisWaitingRoom {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    RedisWaitingRoom::connect(&url)
        .await
        .expect("a Redis server at REDIS_URL (scripts/test starts one if needed)")
}

async fn arrivals_queue_in_order_and_keep_their_place_across_heartbeats(
    store: &dyn WaitingRoomStore,
) {
    let meeting = Uuid::new_v4();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let ttl = Duration::from_secs(30);
    let first_arrival = store.heartbeat(meeting, first, ttl).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.heartbeat(meeting, second, ttl).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // A reload: the first patient heartbeats again and keeps the first place.
    assert_eq!(
        store.heartbeat(meeting, first, ttl).await.unwrap(),
        first_arrival
    );
    let queue: Vec<Uuid> = store
        .queue(meeting)
        .await
        .unwrap()
        .iter()
        .map(|w| w.participant_id)
        .collect();
    assert_eq!(queue, [first, second]);
}

async fn presence_lapses_after_its_ttl_but_the_place_survives_a_brief_disconnect(
    store: &dyn WaitingRoomStore,
) {
    let meeting = Uuid::new_v4();
    let (patient, other) = (Uuid::new_v4(), Uuid::new_v4());
    store
        .heartbeat(meeting, patient, Duration::from_millis(150))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store
        .heartbeat(meeting, other, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(store.is_present(meeting, patient).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!store.is_present(meeting, patient).await.unwrap());
    let queue: Vec<Uuid> = store
        .queue(meeting)
        .await
        .unwrap()
        .iter()
        .map(|w| w.participant_id)
        .collect();
    assert_eq!(queue, [other], "an absent patient is not shown as waiting");
    store
        .heartbeat(meeting, patient, Duration::from_secs(30))
        .await
        .unwrap();
    let queue: Vec<Uuid> = store
        .queue(meeting)
        .await
        .unwrap()
        .iter()
        .map(|w| w.participant_id)
        .collect();
    assert_eq!(
        queue,
        [patient, other],
        "back within the visit: same place, first"
    );
    store.depart(meeting, patient).await.unwrap();
    assert!(!store.is_present(meeting, patient).await.unwrap());
}

async fn decisions_take_participants_out_of_the_queue_and_can_be_reversed(
    store: &dyn WaitingRoomStore,
) {
    let meeting = Uuid::new_v4();
    let patient = Uuid::new_v4();
    store
        .heartbeat(meeting, patient, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(store.decision(meeting, patient).await.unwrap(), None);
    store
        .decide(meeting, patient, Decision::Rejected)
        .await
        .unwrap();
    assert_eq!(
        store.decision(meeting, patient).await.unwrap(),
        Some(Decision::Rejected)
    );
    assert!(store.queue(meeting).await.unwrap().is_empty());
    store
        .decide(meeting, patient, Decision::Admitted)
        .await
        .unwrap();
    assert_eq!(
        store.decision(meeting, patient).await.unwrap(),
        Some(Decision::Admitted)
    );
}

async fn events_reach_every_subscriber_in_order_and_clear_forgets_the_meeting(
    store: &dyn WaitingRoomStore,
) {
    let meeting = Uuid::new_v4();
    let patient = Uuid::new_v4();
    let mut first = store.subscribe(meeting).await.unwrap();
    let mut second = store.subscribe(meeting).await.unwrap();
    store.set_status(meeting, "ringing").await.unwrap();
    assert_eq!(
        store.status(meeting).await.unwrap().as_deref(),
        Some("ringing")
    );
    let events = [
        MeetingEvent::Participant {
            participant_id: patient,
            state: "waiting".into(),
        },
        MeetingEvent::Participant {
            participant_id: patient,
            state: "admitted".into(),
        },
        MeetingEvent::Status {
            status: "in_call".into(),
        },
    ];
    for event in &events {
        store.publish(meeting, event).await.unwrap();
    }
    for subscriber in [&mut first, &mut second] {
        for expected in &events {
            let got = tokio::time::timeout(Duration::from_secs(5), subscriber.next())
                .await
                .unwrap();
            assert_eq!(got.as_ref(), Some(expected));
        }
    }
    store
        .heartbeat(meeting, patient, Duration::from_secs(30))
        .await
        .unwrap();
    store.clear(meeting).await.unwrap();
    assert_eq!(store.status(meeting).await.unwrap(), None);
    assert!(store.queue(meeting).await.unwrap().is_empty());
    assert!(!store.is_present(meeting, patient).await.unwrap());
}

macro_rules! suite {
    ($($case:ident),*) => {
        mod in_memory {
            $(#[tokio::test] async fn $case() { super::$case(&super::MemoryWaitingRoom::default()).await })*
        }
        mod in_redis {
            $(#[tokio::test] async fn $case() { super::$case(&super::redis().await).await })*
        }
    };
}

suite!(
    arrivals_queue_in_order_and_keep_their_place_across_heartbeats,
    presence_lapses_after_its_ttl_but_the_place_survives_a_brief_disconnect,
    decisions_take_participants_out_of_the_queue_and_can_be_reversed,
    events_reach_every_subscriber_in_order_and_clear_forgets_the_meeting
);
