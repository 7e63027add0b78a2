use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn an_admin_creates_a_clinician_who_can_then_sign_in() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let response = app
        .post("/api/v1/users", &token, &json!({ "email": "New.Doc@Clinic.test", "name": "Dr. New", "password": "a-long-enough-password" }))
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["role"], "clinician");
    assert_eq!(body["email"], "new.doc@clinic.test");
    assert_eq!(
        app.login("new.doc@clinic.test", "a-long-enough-password")
            .await
            .status(),
        StatusCode::OK
    );
    let staff: Vec<Value> = app.get_json("/api/v1/users", &token).await;
    assert_eq!(staff.len(), 2);
}

#[tokio::test]
async fn a_clinician_cannot_create_users() {
    let app = spawn_app().await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    let response = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "x@clinic.test", "name": "X", "password": "a-long-enough-password" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn creating_a_user_with_a_taken_email_or_bad_fields_is_rejected() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let taken = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": admin.email, "name": "Dup", "password": "a-long-enough-password" }),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);

    let bad = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "nope", "name": "", "role": "owner", "password": "short" }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "role", "password"]);
    assert_eq!(
        error_code(app.post("/api/v1/users", &token, &json!({})).await).await,
        "validation_failed"
    );
}

#[tokio::test]
async fn an_admin_cannot_give_a_new_user_a_common_password() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let response = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "new.doc@clinic.test", "name": "Dr. New", "password": "Password123!" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "password");
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too easy to guess")
    );
}
