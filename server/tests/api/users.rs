//! Staff: admins invite colleagues by email; the invitee chooses a password from the
//! link; nothing in the admin's answer tells whether the address has an account in
//! another clinic.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, spawn_app};

/// The newest dev-outbox message to `recipient` (owner view, bypassing RLS).
async fn last_message_to(app: &TestApp, recipient: &str) -> (String, String) {
    sqlx::query_as("select subject, body from dev_outbox where recipient = $1 order by dev_outbox_id desc limit 1")
        .bind(recipient)
        .fetch_one(&app.owner)
        .await
        .expect("a message in the dev outbox")
}

/// The token in an invitation body's link (`…/invitation#TOKEN`).
fn link_token(body: &str) -> String {
    let start = body.find("/invitation#").expect("an invitation link") + "/invitation#".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn an_invited_clinician_chooses_a_password_from_the_emailed_link_and_signs_in() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let response = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "New.Doc@Clinic.test", "name": "Dr. New" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "invited");
    assert_eq!(body["role"], "clinician");
    assert_eq!(body["email"], "new.doc@clinic.test");
    let (subject, message) = last_message_to(&app, "new.doc@clinic.test").await;
    assert!(subject.contains("Clinic"));
    let link = link_token(&message);

    let accepted = reqwest::Client::new()
        .post(format!("{}/api/v1/invitations/accept", app.address))
        .json(&json!({ "token": link, "password": "violet tractor lantern oyster" }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::CREATED);
    assert_eq!(
        app.login("new.doc@clinic.test", "violet tractor lantern oyster")
            .await
            .status(),
        StatusCode::OK
    );
    let staff: Vec<Value> = app.get_json("/api/v1/users", &token).await;
    assert_eq!(staff.len(), 2);

    let again = reqwest::Client::new()
        .post(format!("{}/api/v1/invitations/accept", app.address))
        .json(&json!({ "token": link, "password": "another fine long phrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link works once"
    );
}

#[tokio::test]
async fn inviting_an_address_used_in_another_clinic_answers_exactly_as_for_a_new_one() {
    let app = spawn_app().await;
    let elsewhere = app.create_workspace("Other Clinic").await;
    let existing = app.create_user(elsewhere, "clinician").await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let taken = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": existing.email, "name": "Dr. Taken" }),
        )
        .await;
    let fresh = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "fresh@clinic.test", "name": "Dr. Fresh" }),
        )
        .await;

    assert_eq!(taken.status(), fresh.status());
    let (taken, fresh): (Value, Value) = (taken.json().await.unwrap(), fresh.json().await.unwrap());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&taken), keys(&fresh));
    assert_eq!(taken["status"], fresh["status"]);
    // Only the mailbox's owner learns the difference, and gets no usable link.
    let (_, note) = last_message_to(&app, &existing.email).await;
    assert!(note.contains("already has a Bedside account"));
    assert!(!note.contains("/invitation#"));
    let (_, invitation) = last_message_to(&app, "fresh@clinic.test").await;
    assert!(invitation.contains("/invitation#"));
    // The existing account is untouched.
    assert_eq!(
        app.login(&existing.email, &existing.password)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_clinician_cannot_invite_and_an_admin_cannot_invite_a_colleague_twice() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let clinician = app.create_user(workspace, "clinician").await;
    let admin = app.create_user(workspace, "admin").await;

    let clinician_token = app.token(&clinician).await;
    let refused = app
        .post(
            "/api/v1/users",
            &clinician_token,
            &json!({ "email": "x@clinic.test", "name": "X" }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let admin_token = app.token(&admin).await;
    let colleague = app
        .post(
            "/api/v1/users",
            &admin_token,
            &json!({ "email": clinician.email, "name": "Dup" }),
        )
        .await;
    assert_eq!(colleague.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_fields_and_bad_links_are_refused_with_clear_errors() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let bad = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "nope", "name": "", "role": "owner" }),
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
    assert_eq!(fields, ["email", "name", "role"]);
    assert_eq!(
        error_code(app.post("/api/v1/users", &token, &json!({})).await).await,
        "validation_failed"
    );

    let forged = reqwest::Client::new()
        .post(format!("{}/api/v1/invitations/accept", app.address))
        .json(&json!({ "token": Uuid::new_v4().to_string(), "password": "violet tractor lantern oyster" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_invitee_cannot_choose_a_common_password_and_an_expired_link_is_refused() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;
    app.post(
        "/api/v1/users",
        &token,
        &json!({ "email": "new@clinic.test", "name": "Dr. New" }),
    )
    .await;
    let link = link_token(&last_message_to(&app, "new@clinic.test").await.1);
    let accept = |password: &str| {
        reqwest::Client::new()
            .post(format!("{}/api/v1/invitations/accept", app.address))
            .json(&json!({ "token": link, "password": password }))
            .send()
    };

    let weak = accept("Password123!").await.unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "password");

    sqlx::query("update staff_invitation set expires_at = now() - interval '1 minute'")
        .execute(&app.owner)
        .await
        .unwrap();
    let expired = accept("violet tractor lantern oyster").await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.login("new@clinic.test", "violet tractor lantern oyster")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
