//! Changing one's password: the current one is required and counted like a sign-in, the
//! new one must not be common or guessable, and every other login ends.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

const NEW_PASSWORD: &str = "violet tractor lantern oyster";

async fn field_names(response: reqwest::Response) -> Vec<String> {
    let body: Value = response.json().await.unwrap();
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_user_changes_their_password_and_every_other_login_of_theirs_ends() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let this_tab = app.token(&user).await;
    let other_device = app.token(&user).await;

    let changed = app
        .post(
            "/api/v1/me/password",
            &this_tab,
            &json!({ "current_password": user.password, "new_password": NEW_PASSWORD }),
        )
        .await;

    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &this_tab).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/me", &other_device).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.email, &user.password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'auth.password_changed' and subject_id = $1",
    )
    .bind(user.id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_common_or_personal_new_password_is_refused_and_the_old_one_keeps_working() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let token = app.token(&user).await;
    let local_part = user.email.split('@').next().unwrap().to_owned();

    for weak in [
        "password1234",
        "qwertyuiop123",
        local_part.as_str(),
        "short",
    ] {
        let refused = app
            .post(
                "/api/v1/me/password",
                &token,
                &json!({ "current_password": user.password, "new_password": weak }),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert_eq!(field_names(refused).await, ["new_password"], "{weak}");
    }
    assert_eq!(
        app.login(&user.email, &user.password).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_and_repeated_guesses_are_slowed_like_sign_ins() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let token = app.token(&user).await;
    let guess = |n: usize| json!({ "current_password": format!("guess-number-{n}"), "new_password": NEW_PASSWORD });

    let first = app.post("/api/v1/me/password", &token, &guess(0)).await;
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(first).await, ["current_password"]);

    let mut slowed = false;
    for n in 1..10 {
        let response = app.post("/api/v1/me/password", &token, &guess(n)).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            slowed = true;
            break;
        }
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(
        slowed,
        "guessing the current password through a session must be slowed"
    );
    // The login itself is not ended by wrong guesses (no lockout of the clinician).
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn changing_a_password_needs_a_live_login_and_a_well_formed_body() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let token = app.token(&user).await;

    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/v1/me/password", app.address))
        .json(&json!({ "current_password": user.password, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let forged = app
        .post(
            "/api/v1/me/password",
            "not.a.token",
            &json!({ "current_password": user.password, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let wrong_shape = app
        .post("/api/v1/me/password", &token, &json!({ "new_password": 5 }))
        .await;
    assert_eq!(wrong_shape.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_json = app
        .request(reqwest::Method::POST, "/api/v1/me/password", &token)
        .header("content-type", "application/json")
        .body("{\"current_password\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(not_json).await, "malformed_body");
}
