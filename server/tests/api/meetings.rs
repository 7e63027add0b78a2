//! The meetings API from the clinician's side: create, read, change, end, and who may.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};
use crate::visit_fixture::*;

#[tokio::test]
async fn a_clinician_creates_the_meeting_of_a_telehealth_appointment_once_and_gets_an_admin_token_for_its_room()
 {
    let app = spawn_app().await;
    let visit = visit(&app).await;

    let meeting = create_meeting(&app, &visit).await;

    assert_eq!(meeting.body["status"], "waiting");
    let room = format!("appointment-{}", visit.appointment_id);
    assert_eq!(meeting.body["room_name"], room);
    assert!(
        meeting.body["livekit_url"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:")
    );
    let video = grants(meeting.body["token"].as_str().unwrap());
    assert_eq!(video["room"], room);
    assert_eq!(video["roomAdmin"], true);
    assert_eq!(video["canPublish"], true);
    let roles: Vec<(&str, &str)> = meeting.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["role"].as_str().unwrap(), p["state"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("clinician", "invited"), ("patient", "invited")]);

    // Start visit again: the same meeting, not a second one.
    let again = app
        .post(
            "/api/v1/meetings",
            &visit.token,
            &json!({ "appointment_id": visit.appointment_id }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], meeting.body["id"]);
}

#[tokio::test]
async fn other_clinicians_are_refused_404_across_workspaces_and_403_within_one() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;

    let stranger = app.clinic_with_clinician().await;
    let stranger = app.token(&stranger).await;
    let colleague = app.create_user(visit.workspace_id, "clinician").await;
    let colleague = app.token(&colleague).await;
    let path = format!("/api/v1/meetings/{}", meeting.id);

    assert_eq!(
        app.get(&path, &stranger).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, &colleague).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&path, &colleague).await.status(),
        StatusCode::FORBIDDEN
    );
    let admit = format!("{path}/participants/{}/admit", meeting.patient_id);
    assert_eq!(
        app.post(&admit, &stranger, &json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&admit, &colleague, &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let create = json!({ "appointment_id": visit.appointment_id });
    assert_eq!(
        app.post("/api/v1/meetings", &colleague, &create)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/meetings", &stranger, &create)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // A workspace admin may look.
    let admin = app.create_user(visit.workspace_id, "admin").await;
    let admin = app.token(&admin).await;
    assert_eq!(app.get(&path, &admin).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_and_invalid_requests_get_clear_errors() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;

    let not_json = app
        .request(reqwest::Method::POST, "/api/v1/meetings", &visit.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(not_json).await, "malformed_body");
    let missing = app.post("/api/v1/meetings", &visit.token, &json!({})).await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_id = app
        .post(
            "/api/v1/meetings",
            &visit.token,
            &json!({ "appointment_id": "nope" }),
        )
        .await;
    assert_eq!(bad_id.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .post(
            "/api/v1/meetings",
            &visit.token,
            &json!({ "appointment_id": uuid::Uuid::new_v4() }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let too_long = app
        .post(
            "/api/v1/meetings",
            &visit.token,
            &json!({ "appointment_id": visit.appointment_id, "duration_minutes": 9000 }),
        )
        .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let path = format!("/api/v1/meetings/{}", meeting.id);
    let empty_patch = app.patch(&path, &visit.token, &json!({})).await;
    assert_eq!(empty_patch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_role = app
        .patch(
            &path,
            &visit.token,
            &json!({ "add_participant": { "role": "surgeon", "name": "X" } }),
        )
        .await;
    assert_eq!(bad_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/api/v1/meetings/not-a-uuid", &visit.token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let bad_channel = app
        .post(
            &format!("{path}/invite"),
            &visit.token,
            &json!({ "participant_id": meeting.patient_id, "channel": "pigeon" }),
        )
        .await;
    assert_eq!(bad_channel.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&path, "forged.token.here").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_in_person_appointment_has_no_video_visit() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    app.patch(
        &format!("/api/v1/appointments/{}", visit.appointment_id),
        &visit.token,
        &json!({ "modality": "in_person" }),
    )
    .await;
    let response = app
        .post(
            "/api/v1/meetings",
            &visit.token,
            &json!({ "appointment_id": visit.appointment_id }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_clinician_extends_the_visit_and_adds_an_interpreter_and_a_colleague() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let colleague = app.create_user(visit.workspace_id, "clinician").await;
    let path = format!("/api/v1/meetings/{}", meeting.id);

    let extended = app
        .patch_json(&path, &visit.token, &json!({ "duration_minutes": 45 }))
        .await;
    assert_eq!(extended["duration_minutes"], 45);
    let shorter = app
        .patch(&path, &visit.token, &json!({ "duration_minutes": 10 }))
        .await;
    assert_eq!(shorter.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let with_interpreter = app
        .patch_json(&path, &visit.token, &json!({ "add_participant": { "role": "interpreter", "name": "Ana Ruiz", "email": "ana@interpreters.test" } }))
        .await;
    assert_eq!(
        with_interpreter["participants"].as_array().unwrap().len(),
        3
    );
    let with_colleague = app
        .patch_json(
            &path,
            &visit.token,
            &json!({ "add_participant": { "role": "clinician", "user_id": colleague.id } }),
        )
        .await;
    assert_eq!(with_colleague["participants"].as_array().unwrap().len(), 4);
    // The added colleague may now read the meeting and get a token.
    let colleague_token = app.token(&colleague).await;
    assert_eq!(
        app.get(&path, &colleague_token).await.status(),
        StatusCode::OK
    );
    let twice = app
        .patch(
            &path,
            &visit.token,
            &json!({ "add_participant": { "role": "clinician", "user_id": colleague.id } }),
        )
        .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn ending_a_meeting_completes_the_appointment_is_idempotent_and_freezes_it() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let path = format!("/api/v1/meetings/{}", meeting.id);

    assert_eq!(
        app.delete(&path, &visit.token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, &visit.token).await.status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(read(&app, &visit, &meeting).await["status"], "ended");
    let appointment: Value = app
        .get_json(
            &format!("/api/v1/appointments/{}", visit.appointment_id),
            &visit.token,
        )
        .await;
    assert_eq!(appointment["status"], "completed");
    // Illegal transitions after the end: 409.
    let patch = app
        .patch(&path, &visit.token, &json!({ "duration_minutes": 60 }))
        .await;
    assert_eq!(patch.status(), StatusCode::CONFLICT);
    let admit = app
        .post(
            &format!("{path}/participants/{}/admit", meeting.patient_id),
            &visit.token,
            &json!({}),
        )
        .await;
    assert_eq!(admit.status(), StatusCode::CONFLICT);
    let token = app
        .post(
            "/api/v1/livekit/token",
            &visit.token,
            &json!({ "meeting_id": meeting.id }),
        )
        .await;
    assert_eq!(token.status(), StatusCode::CONFLICT);
}
