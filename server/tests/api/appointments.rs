use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn a_booked_appointment_is_listed_on_its_local_day_with_local_times() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    let patient = app.create_patient(&token, "Pat Example").await;

    // 14:30 UTC is 09:30 in New York in November.
    let booked = app.book(&token, &patient, "2026-11-23T14:30:00Z").await;
    assert_eq!(booked["local_start"], "09:30");
    assert_eq!(booked["local_end"], "10:00");
    assert_eq!(booked["status"], "scheduled");
    assert_eq!(booked["clinician_id"], clinician.id.to_string());

    let day: Vec<Value> = app
        .get_json("/api/v1/appointments?date=2026-11-23", &token)
        .await;
    assert_eq!(day.len(), 1);
    assert_eq!(day[0]["patient_name"], "Pat Example");
    let other_day: Vec<Value> = app
        .get_json("/api/v1/appointments?date=2026-11-24", &token)
        .await;
    assert!(other_day.is_empty());
    let bad_day = app.get("/api/v1/appointments?date=tomorrow", &token).await;
    assert_eq!(bad_day.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_owner_updates_and_deletes_an_appointment() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    let patient = app.create_patient(&token, "Pat Example").await;
    let booked = app.book(&token, &patient, "2026-11-23T14:30:00Z").await;
    let path = format!("/api/v1/appointments/{}", booked["id"].as_str().unwrap());

    let updated: Value = app
        .patch_json(
            &path,
            &token,
            &json!({ "status": "cancelled", "modality": "in_person" }),
        )
        .await;
    assert_eq!(updated["status"], "cancelled");
    assert_eq!(updated["modality"], "in_person");
    assert_eq!(
        updated["starts_at"], booked["starts_at"],
        "absent fields are unchanged"
    );

    assert_eq!(
        app.delete(&path, &token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, &token).await.status(), StatusCode::NOT_FOUND);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where subject_id = $1::uuid order by audit_event_id",
    )
    .bind(booked["id"].as_str().unwrap())
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "appointment.created",
            "appointment.updated",
            "appointment.deleted"
        ]
    );
}

#[tokio::test]
async fn another_clinician_of_the_same_workspace_gets_403_and_an_admin_gets_through() {
    let app = spawn_app().await;
    let owner = app.clinic_with_clinician().await;
    let colleague = app.create_user(owner.workspace_id, "clinician").await;
    let admin = app.create_user(owner.workspace_id, "admin").await;
    let owner_token = app.token(&owner).await;
    let colleague_token = app.token(&colleague).await;
    let admin_token = app.token(&admin).await;
    let patient = app.create_patient(&owner_token, "Pat Example").await;
    let booked = app
        .book(&owner_token, &patient, "2026-11-23T14:30:00Z")
        .await;
    let path = format!("/api/v1/appointments/{}", booked["id"].as_str().unwrap());

    assert_eq!(
        app.get(&path, &colleague_token).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch(&path, &colleague_token, &json!({ "reason": "x" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&path, &colleague_token).await.status(),
        StatusCode::FORBIDDEN
    );
    let colleague_day: Vec<Value> = app
        .get_json("/api/v1/appointments?date=2026-11-23", &colleague_token)
        .await;
    assert!(
        colleague_day.is_empty(),
        "a clinician's list holds only their own appointments"
    );
    // A clinician cannot book for someone else either.
    let for_other = app
        .post(
            "/api/v1/appointments",
            &colleague_token,
            &json!({ "patient_id": patient, "clinician_id": owner.id,
            "starts_at": "2026-11-23T16:00:00Z", "modality": "telehealth" }),
        )
        .await;
    assert_eq!(for_other.status(), StatusCode::FORBIDDEN);

    assert_eq!(app.get(&path, &admin_token).await.status(), StatusCode::OK);
    let admin_day: Vec<Value> = app
        .get_json("/api/v1/appointments?date=2026-11-23", &admin_token)
        .await;
    assert_eq!(admin_day.len(), 1);
    let moved: Value = app
        .patch_json(
            &path,
            &admin_token,
            &json!({ "clinician_id": colleague.id }),
        )
        .await;
    assert_eq!(moved["clinician_id"], colleague.id.to_string());
    for nobody in [json!(uuid::Uuid::new_v4()), json!(admin.id), json!("x")] {
        let response = app
            .patch(&path, &admin_token, &json!({ "clinician_id": nobody }))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{nobody} is no clinician"
        );
    }
}

#[tokio::test]
async fn a_clinician_of_another_workspace_gets_404_on_the_same_appointment() {
    let app = spawn_app().await;
    let owner = app.clinic_with_clinician().await;
    let stranger = app.clinic_with_clinician().await;
    let owner_token = app.token(&owner).await;
    let stranger_token = app.token(&stranger).await;
    let patient = app.create_patient(&owner_token, "Pat Example").await;
    let booked = app
        .book(&owner_token, &patient, "2026-11-23T14:30:00Z")
        .await;
    let path = format!("/api/v1/appointments/{}", booked["id"].as_str().unwrap());

    for response in [
        app.get(&path, &stranger_token).await,
        app.patch(&path, &stranger_token, &json!({ "reason": "x" }))
            .await,
        app.delete(&path, &stranger_token).await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(error_code(response).await, "not_found");
    }
    // Nor can the stranger book the other clinic's patient.
    let response = app
        .post("/api/v1/appointments", &stranger_token, &json!({ "patient_id": patient, "starts_at": "2026-11-23T16:00:00Z", "modality": "telehealth" }))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&path, &owner_token).await.status(),
        StatusCode::OK,
        "the owner's copy is untouched"
    );
}

#[tokio::test]
async fn invalid_appointment_fields_get_422_with_field_errors() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    let patient = app.create_patient(&token, "Pat Example").await;
    let valid = json!({ "patient_id": patient, "starts_at": "2026-11-23T14:30:00Z", "duration_minutes": 30, "modality": "telehealth" });
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            "a start without offset",
            with("starts_at", json!("2026-11-23T14:30:00")),
            "starts_at",
        ),
        (
            "a start that is not a time",
            with("starts_at", json!("soon")),
            "starts_at",
        ),
        (
            "an impossible date",
            with("starts_at", json!("2026-02-30T10:00:00Z")),
            "starts_at",
        ),
        (
            "an unknown patient",
            with("patient_id", json!(uuid::Uuid::new_v4())),
            "patient_id",
        ),
        (
            "a patient id that is no uuid",
            with("patient_id", json!("abc")),
            "patient_id",
        ),
        (
            "a bad modality",
            with("modality", json!("carrier-pigeon")),
            "modality",
        ),
        (
            "a zero duration",
            with("duration_minutes", json!(0)),
            "duration_minutes",
        ),
        (
            "a day-long duration",
            with("duration_minutes", json!(1440)),
            "duration_minutes",
        ),
        ("a bad status", with("status", json!("done")), "status"),
        (
            "a reason of 2000 characters",
            with("reason", json!("x".repeat(2000))),
            "reason",
        ),
    ];
    for (case, body, field) in cases {
        let response = app.post("/api/v1/appointments", &token, &body).await;
        let status = response.status();
        let error: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {error}");
        assert!(
            error["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{case}: {error}"
        );
    }
    let missing = app.post("/api/v1/appointments", &token, &json!({})).await;
    let error: Value = missing.json().await.unwrap();
    let fields: Vec<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["starts_at", "modality", "patient_id"]);
    let day: Vec<Value> = app
        .get_json("/api/v1/appointments?date=2026-11-23", &token)
        .await;
    assert!(day.is_empty(), "rejected requests stored nothing");
}
