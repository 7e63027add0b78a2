//! The visit's chat: stored in order with the meeting, both sides write, strangers and
//! turned-away patients cannot, an ended visit's chat is read-only, and the text never
//! reaches the logs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{captured_logs, spawn_app};
use crate::visit_fixture::*;

#[tokio::test]
async fn clinician_and_patient_chat_in_order_and_the_record_keeps_it_after_the_end() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let path = format!("/api/v1/meetings/{}/messages", meeting.id);

    let sent = app
        .post(
            &path,
            &visit.token,
            &json!({ "body": "Your potassium came back at 4.1." }),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let reply = patient
        .post(format!("{}{path}", app.address))
        .json(&json!({ "body": "Thanks, should I keep the same dose?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);

    let log: Vec<Value> = patient
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines: Vec<(&str, &str)> = log
        .iter()
        .map(|m| {
            (
                m["sender_role"].as_str().unwrap(),
                m["body"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("clinician", "Your potassium came back at 4.1."),
            ("patient", "Thanks, should I keep the same dose?")
        ]
    );
    let newer: Vec<Value> = app
        .get_json(&format!("{path}?after={}", log[0]["id"]), &visit.token)
        .await;
    assert_eq!(newer.len(), 1);

    app.delete(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
        .await;
    let after_end = app
        .post(&path, &visit.token, &json!({ "body": "one more" }))
        .await;
    assert_eq!(after_end.status(), StatusCode::CONFLICT);
    let kept: Vec<Value> = app.get_json(&path, &visit.token).await;
    assert_eq!(kept.len(), 2, "readable afterwards on the meeting's record");
    assert!(
        !captured_logs().contains("potassium"),
        "chat text never reaches the logs"
    );
}

#[tokio::test]
async fn strangers_turned_away_patients_and_bad_messages_are_refused() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let path = format!("/api/v1/meetings/{}/messages", meeting.id);

    let stranger = app.clinic_with_clinician().await;
    let stranger = app.token(&stranger).await;
    assert_eq!(
        app.get(&path, &stranger).await.status(),
        StatusCode::NOT_FOUND
    );
    let colleague = app.create_user(visit.workspace_id, "clinician").await;
    let colleague = app.token(&colleague).await;
    assert_eq!(
        app.get(&path, &colleague).await.status(),
        StatusCode::FORBIDDEN
    );
    let anonymous = reqwest::Client::new()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post(&path, &visit.token, &json!({ "body": "   " }))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let long = "x".repeat(2001);
    assert_eq!(
        app.post(&path, &visit.token, &json!({ "body": long }))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    app.post(
        &format!(
            "/api/v1/meetings/{}/participants/{}/reject",
            meeting.id, meeting.patient_id
        ),
        &visit.token,
        &json!({}),
    )
    .await;
    let rejected = patient
        .post(format!("{}{path}", app.address))
        .json(&json!({ "body": "hello?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::FORBIDDEN);
}
