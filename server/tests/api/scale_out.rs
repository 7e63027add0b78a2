//! The control plane as it scales out: two Bedside nodes on one PostgreSQL and one
//! Redis serve one clinic, and the app drives an external LiveKit-compatible server
//! (`server sfu` in its own process, configured by `LIVEKIT_URL`) through the same
//! public contracts as the embedded one.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app_with;
use crate::room_service::{join_at, next_response, wait_for};
use crate::visit_fixture::*;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Reads a server-sent event stream until `needle` appears.
async fn until_event(events: &mut reqwest::Response, needle: &str) -> String {
    let mut received = String::new();
    while !received.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    received
}

#[tokio::test]
async fn two_nodes_on_one_redis_share_the_waiting_room_and_admission_crosses_them() {
    let node1 = spawn_app_with(|s| s.redis_url = Some(redis_url())).await;
    let database = node1.settings.database.database_name.clone();
    let media = node1.address.replace("http", "ws");
    let node2 = spawn_app_with(|s| {
        s.redis_url = Some(redis_url());
        s.database.database_name = database;
        // One media plane for the clinic: node 1's SFU.
        s.livekit.url = Some(media.clone());
    })
    .await;
    let visit = visit(&node1).await;
    let meeting = create_meeting(&node2, &visit).await;
    assert_eq!(meeting.body["livekit_url"], media.as_str());

    // The clinician watches the queue on node 2.
    let mut events = node2
        .get(
            &format!("/api/v1/meetings/{}/events", meeting.id),
            &visit.token,
        )
        .await;
    assert_eq!(events.status(), StatusCode::OK);
    until_event(&mut events, "event: queue").await;

    // The patient's browser talks to node 1 only.
    let (patient, _) = patient_with_link(&node1, &visit, &meeting).await;
    let token: Value = patient_token_json(&node1, &patient, &meeting.id).await;
    let mut socket = join_at(&media, token["token"].as_str().unwrap()).await;
    let waiting = until_event(&mut events, "\"state\":\"waiting\"").await;
    assert!(
        waiting.contains(&meeting.patient_id),
        "node 1's arrival reached node 2's queue"
    );

    // Admission from node 2 reaches the patient connected through node 1.
    let admitted = admit_patient(&node2, &visit, &meeting).await;
    assert_eq!(admitted["live"], true);
    wait_for(&mut socket, |m| admitted_permission(m, &meeting.patient_id)).await;
    until_state(&node1, &visit, &meeting, &meeting.patient_id, "in_call").await;
}

/// `server sfu`, the media-only host, in its own process.
struct SfuProcess {
    child: Child,
    ws_url: String,
}

impl Drop for SfuProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_sfu(port: u16, keys: (String, String), webhook: &str) -> SfuProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("sfu")
        .env("BEDSIDE_ADDR", format!("127.0.0.1:{port}"))
        .env("LIVEKIT_API_KEY", keys.0)
        .env("LIVEKIT_API_SECRET", keys.1)
        .env("BEDSIDE_RTC_UDP_PORT", "0")
        .env("BEDSIDE_RTC_TCP_PORT", "off")
        .env("BEDSIDE_WEBHOOK_URLS", webhook)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary runs");
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    SfuProcess {
        child,
        ws_url: format!("ws://127.0.0.1:{port}"),
    }
}

#[tokio::test]
async fn the_app_drives_an_external_livekit_server_by_its_public_contracts() {
    let sfu_port = free_port();
    let external = format!("ws://127.0.0.1:{sfu_port}");
    let app = spawn_app_with(|s| s.livekit.url = Some(external.clone())).await;
    let sfu = start_sfu(
        sfu_port,
        app.livekit_keys(),
        &format!("{}/api/v1/livekit/webhook", app.address),
    )
    .await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    assert_eq!(meeting.body["livekit_url"], sfu.ws_url.as_str());

    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let token: Value = patient_token_json(&app, &patient, &meeting.id).await;
    let mut socket = join_at(&sfu.ws_url, token["token"].as_str().unwrap()).await;
    // The external server's webhook marks the patient waiting.
    until_state(&app, &visit, &meeting, &meeting.patient_id, "waiting").await;

    let admitted = admit_patient(&app, &visit, &meeting).await;
    assert_eq!(admitted["live"], true);
    wait_for(&mut socket, |m| admitted_permission(m, &meeting.patient_id)).await;

    // Ending deletes the room on the external server: the patient is disconnected.
    assert_eq!(
        app.delete(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while next_response(&mut socket).await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "the patient's session ended with the room");
}
