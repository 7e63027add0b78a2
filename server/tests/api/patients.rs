use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn a_clinician_adds_lists_reads_and_updates_a_patient() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;

    let created = app
        .post("/api/v1/patients", &token, &json!({ "name": "Ada Lovelace", "email": "Ada@Example.test", "phone": "+1 555 010 0100", "date_of_birth": "1990-12-10" }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let patient: Value = created.json().await.unwrap();
    assert_eq!(patient["email"], "ada@example.test");
    let id = patient["id"].as_str().unwrap();

    let list: Vec<Value> = app.get_json("/api/v1/patients", &token).await;
    assert_eq!(list.len(), 1);

    // Absent fields stay, null clears.
    let updated: Value = app
        .patch_json(
            &format!("/api/v1/patients/{id}"),
            &token,
            &json!({ "phone": null, "name": "Ada King" }),
        )
        .await;
    assert_eq!(updated["name"], "Ada King");
    assert_eq!(updated["phone"], Value::Null);
    assert_eq!(updated["email"], "ada@example.test");
    let read: Value = app
        .get_json(&format!("/api/v1/patients/{id}"), &token)
        .await;
    assert_eq!(read, updated);
}

#[tokio::test]
async fn invalid_patient_fields_get_422_with_each_field_named() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    let cases = [
        (json!({}), "name"),
        (json!({ "name": "  " }), "name"),
        (json!({ "name": "A", "email": "not-an-email" }), "email"),
        (json!({ "name": "A", "phone": "call me" }), "phone"),
        (
            json!({ "name": "A", "date_of_birth": "2999-01-01" }),
            "date_of_birth",
        ),
        (
            json!({ "name": "A", "date_of_birth": "12/10/1990" }),
            "date_of_birth",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/api/v1/patients", &token, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["fields"][0]["field"], field, "{body}");
    }
    let unknown_field = app
        .post(
            "/api/v1/patients",
            &token,
            &json!({ "name": "A", "ssn": "1" }),
        )
        .await;
    assert_eq!(unknown_field.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Vec<Value> = app.get_json("/api/v1/patients", &token).await;
    assert!(list.is_empty(), "nothing was stored by rejected requests");
}

#[tokio::test]
async fn another_workspaces_patient_is_not_found() {
    let app = spawn_app().await;
    let a = app.clinic_with_clinician().await;
    let b = app.clinic_with_clinician().await;
    let token_a = app.token(&a).await;
    let token_b = app.token(&b).await;
    let id = app.create_patient(&token_a, "Private Person").await;

    let read = app.get(&format!("/api/v1/patients/{id}"), &token_b).await;
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    let write = app
        .patch(
            &format!("/api/v1/patients/{id}"),
            &token_b,
            &json!({ "name": "Changed" }),
        )
        .await;
    assert_eq!(write.status(), StatusCode::NOT_FOUND);
    let list: Vec<Value> = app.get_json("/api/v1/patients", &token_b).await;
    assert!(list.is_empty());
    assert_eq!(
        error_code(app.get("/api/v1/patients/not-a-uuid", &token_a).await).await,
        "not_found"
    );
}

#[tokio::test]
async fn every_read_of_a_patient_or_a_schedule_is_audited_with_reader_and_record() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    let patient_id = app.create_patient(&token, "Ada Lovelace").await;
    let booked = app.book(&token, &patient_id, "2031-03-03T15:00:00Z").await;

    app.get(&format!("/api/v1/patients/{patient_id}"), &token)
        .await;
    app.get("/api/v1/patients", &token).await;
    app.get("/api/v1/appointments?date=2031-03-03", &token)
        .await;

    let reads: Vec<(String, Option<uuid::Uuid>, Option<uuid::Uuid>)> = sqlx::query_as(
        "select action, actor_user_id, subject_id from audit_event
         where action in ('patient.viewed', 'patient.listed', 'schedule.viewed')
         order by audit_event_id",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let patient = patient_id.parse().ok();
    let appointment = booked["id"].as_str().unwrap().parse().ok();
    let reader = Some(clinician.id);
    assert_eq!(
        reads,
        [
            ("patient.viewed".to_owned(), reader, patient),
            ("patient.listed".to_owned(), reader, patient),
            ("schedule.viewed".to_owned(), reader, appointment),
        ]
    );
}
