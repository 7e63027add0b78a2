//! The visit's SOAP note: a draft saved as the clinician types, filed on the patient's
//! chart when the visit ends and read-only from then on; only the meeting's clinicians
//! write it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{captured_logs, spawn_app};
use crate::visit_fixture::*;

#[tokio::test]
async fn the_draft_survives_saves_and_is_filed_on_the_chart_when_the_visit_ends() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let path = format!("/api/v1/meetings/{}/note", meeting.id);

    let empty: Value = app.get_json(&path, &visit.token).await;
    assert_eq!(empty["subjective"], "");
    let first = app
        .request(reqwest::Method::PUT, &path, &visit.token)
        .json(&json!({ "subjective": "Rash on forearm, itchy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = app
        .request(reqwest::Method::PUT, &path, &visit.token)
        .json(&json!({ "subjective": "Rash on forearm, itchy, 3 days", "plan": "Hydrocortisone 1% twice daily" }))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let draft: Value = app.get_json(&path, &visit.token).await;
    assert_eq!(draft["subjective"], "Rash on forearm, itchy, 3 days");
    assert!(draft["filed_at"].is_null());

    app.delete(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
        .await;
    let filed: Value = app.get_json(&path, &visit.token).await;
    assert!(filed["filed_at"].is_string(), "filed when the visit ended");
    let late = app
        .request(reqwest::Method::PUT, &path, &visit.token)
        .json(&json!({ "plan": "changed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let patient_id: String = sqlx::query_scalar("select patient_id::text from visit_note")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let chart: Vec<Value> = app
        .get_json(
            &format!("/api/v1/patients/{patient_id}/notes"),
            &visit.token,
        )
        .await;
    assert_eq!(chart.len(), 1);
    assert_eq!(chart[0]["plan"], "Hydrocortisone 1% twice daily");
    assert!(
        !captured_logs().contains("Hydrocortisone"),
        "note text never reaches the logs"
    );
}

#[tokio::test]
async fn only_the_meetings_clinicians_write_the_note_and_oversized_sections_are_refused() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let path = format!("/api/v1/meetings/{}/note", meeting.id);
    let body = json!({ "assessment": "Contact dermatitis" });

    let stranger = app.clinic_with_clinician().await;
    let stranger = app.token(&stranger).await;
    let put = |token: String, body: Value| {
        let request = app.request(reqwest::Method::PUT, &path, &token).json(&body);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(put(stranger, body.clone()).await, StatusCode::NOT_FOUND);
    let colleague = app.create_user(visit.workspace_id, "clinician").await;
    assert_eq!(
        put(app.token(&colleague).await, body.clone()).await,
        StatusCode::FORBIDDEN
    );
    let admin = app.create_user(visit.workspace_id, "admin").await;
    assert_eq!(
        put(app.token(&admin).await, body.clone()).await,
        StatusCode::FORBIDDEN
    );
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let by_patient = patient
        .put(format!("{}{path}", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(by_patient.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        put(visit.token.clone(), json!({ "plan": "x".repeat(20_001) })).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(put(visit.token.clone(), body).await, StatusCode::OK);
}
