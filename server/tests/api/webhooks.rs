//! Webhooks from the embedded SFU arrive in order, in LiveKit's format, and verify with
//! `livekit-api`'s `WebhookReceiver`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use livekit_api::access_token::TokenVerifier;
use livekit_api::webhooks::WebhookReceiver;

use crate::helpers::spawn_app_with;
use crate::room_service::{join, keys, next_response, room_client};

type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A receiver on 127.0.0.1 that records `(authorization, body)` of every POST.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                store.lock().unwrap().push((auth, body));
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn room_and_participant_events_arrive_in_order_and_verify() {
    let (url, received) = receiver().await;
    let app = spawn_app_with(|s| s.rtc.webhook_urls = vec![url]).await;
    let mut socket = join(&app, "visit-hooks", "patient-1").await;
    room_client(&app).delete_room("visit-hooks").await.unwrap();
    while next_response(&mut socket).await.is_some() {}

    let (key, secret) = keys(&app);
    let verifier = WebhookReceiver::new(TokenVerifier::with_api_key(&key, &secret));
    let mut events = Vec::new();
    for _ in 0..100 {
        events = received
            .lock()
            .unwrap()
            .iter()
            .map(|(auth, body)| verifier.receive(body, auth).expect("a verified event"))
            .collect::<Vec<_>>();
        if events.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "room_started",
            "participant_joined",
            "participant_left",
            "room_finished"
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.room.as_ref().unwrap().name == "visit-hooks")
    );
    assert!(
        events
            .iter()
            .all(|e| e.id.starts_with("EV_") && e.created_at > 0)
    );
    assert_eq!(
        events[1].participant.as_ref().unwrap().identity,
        "patient-1"
    );

    // A body changed in transit no longer verifies.
    let (auth, body) = received.lock().unwrap()[0].clone();
    assert!(
        verifier
            .receive(&body.replace("visit-hooks", "visit-other"), &auth)
            .is_err()
    );
}
