//! The control plane with the media plane running: the embedded SFU's webhooks mark a
//! joining patient as waiting, admission reaches the connected patient live, events
//! are pushed to the clinician, webhooks are authenticated, and the audit chain holds.

use std::time::Duration;

use livekit_api::access_token::AccessToken;
use livekit_protocol as proto;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::room_service::{join_with_token, wait_for};
use crate::visit_fixture::*;

#[tokio::test]
async fn a_patient_joining_the_room_waits_and_admission_reaches_them_live_without_a_reconnect() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let token: Value = patient_token_json(&app, &patient, &meeting.id).await;

    let mut socket = join_with_token(&app, token["token"].as_str().unwrap()).await;
    until_state(&app, &visit, &meeting, &meeting.patient_id, "waiting").await;
    // The clinician joins too: the meeting rings.
    let mut clinician = join_with_token(&app, meeting.body["token"].as_str().unwrap()).await;
    for _ in 0..100 {
        if read(&app, &visit, &meeting).await["status"] == "ringing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(read(&app, &visit, &meeting).await["status"], "ringing");

    let admitted = admit_patient(&app, &visit, &meeting).await;
    assert_eq!(admitted["live"], true);

    // The same signaling session learns its new rights: no second join.
    let permission = wait_for(&mut socket, |message| match message {
        proto::signal_response::Message::Update(update) => update
            .participants
            .into_iter()
            .find(|p| p.identity == meeting.patient_id)
            .and_then(|p| p.permission)
            .filter(|p| p.can_publish),
        _ => None,
    })
    .await;
    assert!(permission.can_subscribe && permission.can_publish_data && !permission.hidden);
    // Admitted while connected, with the clinician there: both in the call.
    until_state(&app, &visit, &meeting, &meeting.patient_id, "in_call").await;
    assert_eq!(read(&app, &visit, &meeting).await["status"], "in_call");
    // The clinician now sees the patient in the room.
    wait_for(&mut clinician, |message| match message {
        proto::signal_response::Message::Update(update) => update
            .participants
            .into_iter()
            .find(|p| p.identity == meeting.patient_id),
        _ => None,
    })
    .await;

    // Ending disconnects the patient.
    app.delete(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
        .await;
    while crate::room_service::next_response(&mut socket)
        .await
        .is_some()
    {}

    let trail: Vec<Value> = app
        .get_json(
            &format!("/api/v1/meetings/{}/audit", meeting.id),
            &visit.token,
        )
        .await;
    let actions: Vec<&str> = trail
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let position = |action: &str| {
        actions
            .iter()
            .position(|a| *a == action)
            .unwrap_or_else(|| panic!("{action} in {actions:?}"))
    };
    assert!(position("meeting.created") < position("meeting.invitation_sent"));
    assert!(position("meeting.link_redeemed") < position("meeting.patient_waiting"));
    assert!(position("meeting.patient_waiting") < position("meeting.participant_admitted"));
    assert!(position("meeting.participant_admitted") < position("meeting.ended"));
    assert!(actions.contains(&"meeting.token_issued"));
    let joins: i64 = sqlx::query_scalar("select count(*) from livekit_access_log where event = 'join' and source_addr = '127.0.0.1'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(joins >= 2, "joins logged with their source address");
    assert_eq!(
        server::audit::verify_chain(&app.owner, visit.workspace_id)
            .await
            .unwrap(),
        server::audit::ChainCheck::Intact {
            rows: server_rows(&app, &visit).await
        }
    );
}

async fn server_rows(app: &TestApp, visit: &Visit) -> u64 {
    let rows: i64 = sqlx::query_scalar("select count(*) from audit_event where workspace_id = $1")
        .bind(visit.workspace_id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    rows as u64
}

#[tokio::test]
async fn the_clinicians_event_stream_pushes_a_patient_arriving_in_the_waiting_room() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;

    let events = app
        .get(
            &format!("/api/v1/meetings/{}/events", meeting.id),
            &visit.token,
        )
        .await;
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut events = events;
    let heartbeat: Value = patient
        .post(format!("{}/api/v1/calls/heartbeat", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(heartbeat["state"], "waiting");

    let mut received = String::new();
    while !received.contains("\"state\":\"waiting\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("event: queue"));
    assert!(received.contains(&meeting.patient_id));
    // Another clinic's clinician cannot listen.
    let stranger = app.clinic_with_clinician().await;
    let stranger = app.token(&stranger).await;
    assert_eq!(
        app.get(
            &format!("/api/v1/meetings/{}/events", meeting.id),
            &stranger
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

fn signed(app: &TestApp, body: &str, secret: Option<&str>) -> String {
    use base64::Engine;
    use sha2::Digest;
    let (key, real_secret) = app.livekit_keys();
    let sha =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes()));
    AccessToken::with_api_key(&key, secret.unwrap_or(&real_secret))
        .with_sha256(&sha)
        .to_jwt()
        .unwrap()
}

async fn post_webhook(app: &TestApp, body: &str, auth: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/api/v1/livekit/webhook", app.address))
        .header("content-type", "application/webhook+json")
        .header("authorization", auth)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn forged_stale_and_replayed_webhooks_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let event = |id: &str, created_at: i64| {
        json!({ "event": "participant_joined", "id": id, "createdAt": created_at,
                "room": { "name": format!("appointment-{}", visit.appointment_id) },
                "participant": { "identity": meeting.patient_id } })
        .to_string()
    };
    let now = chrono::Utc::now().timestamp();

    let forged = event("EV_forged", now);
    assert_eq!(
        post_webhook(
            &app,
            &forged,
            &signed(&app, &forged, Some("not-the-secret-0123456789abcdef"))
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    let body = event("EV_tampered", now);
    assert_eq!(
        post_webhook(
            &app,
            &body.replace("joined", "left"),
            &signed(&app, &body, None)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    let stale = event("EV_stale", now - 3600);
    assert_eq!(
        post_webhook(&app, &stale, &signed(&app, &stale, None)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_webhook(&app, &body, "").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        state_of(&read(&app, &visit, &meeting).await, &meeting.patient_id),
        "invited"
    );

    let good = event("EV_good", now);
    assert_eq!(
        post_webhook(&app, &good, &signed(&app, &good, None)).await,
        StatusCode::OK
    );
    assert_eq!(
        state_of(&read(&app, &visit, &meeting).await, &meeting.patient_id),
        "waiting"
    );
    assert_eq!(
        post_webhook(&app, &good, &signed(&app, &good, None)).await,
        StatusCode::UNAUTHORIZED,
        "a replay is refused"
    );
}

#[tokio::test]
async fn an_edited_or_deleted_audit_row_breaks_the_chain() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    create_meeting(&app, &visit).await;
    let rows = server_rows(&app, &visit).await;
    assert_eq!(
        server::audit::verify_chain(&app.owner, visit.workspace_id)
            .await
            .unwrap(),
        server::audit::ChainCheck::Intact { rows }
    );

    // Someone with the owner's rights edits a row behind the application's back.
    sqlx::query("alter table audit_event disable trigger audit_event_append_only")
        .execute(&app.owner)
        .await
        .unwrap();
    let edited: i64 = sqlx::query_scalar(
        "update audit_event set action = 'patient.listed' where audit_event_id =
           (select min(audit_event_id) from audit_event where workspace_id = $1) returning audit_event_id",
    )
    .bind(visit.workspace_id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        server::audit::verify_chain(&app.owner, visit.workspace_id)
            .await
            .unwrap(),
        server::audit::ChainCheck::Broken {
            at_event_id: Some(edited)
        }
    );
    sqlx::query("delete from audit_event where audit_event_id = $1")
        .bind(edited)
        .execute(&app.owner)
        .await
        .unwrap();
    assert!(matches!(
        server::audit::verify_chain(&app.owner, visit.workspace_id)
            .await
            .unwrap(),
        server::audit::ChainCheck::Broken { .. }
    ));
}
