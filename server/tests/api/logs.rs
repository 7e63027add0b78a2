//! The server's logs carry no PHI and no typed passwords.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{captured_logs, spawn_app};

#[tokio::test]
async fn no_patient_details_or_passwords_appear_in_the_server_logs() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let wrong_password = "Wrong-Typed-Password-7731";
    assert_eq!(
        app.login(&user.email, wrong_password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let token = app.token(&user).await;
    let phi = [
        "Zebulon Quartermaine",
        "zebulon.q@example.test",
        "+1 555 867 5309",
        "1977-04-01",
    ];
    let response = app
        .post(
            "/api/v1/patients",
            &token,
            &json!({ "name": phi[0], "email": phi[1], "phone": phi[2], "date_of_birth": phi[3] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A rejected update that echoes a value back to the client must not log it either.
    let bad = app
        .patch(
            &format!("/api/v1/patients/{id}"),
            &token,
            &json!({ "email": "Zebulon-at-nowhere" }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.get(&format!("/api/v1/patients/{id}?q={}", phi[0]), &token)
        .await;

    let logs = captured_logs();
    assert!(
        logs.contains("patient created"),
        "the capture works: {logs}"
    );
    for secret in phi.iter().copied().chain([
        wrong_password,
        user.password.as_str(),
        user.email.as_str(),
        "Zebulon",
        "127.0.0.1:",
    ]) {
        assert!(!logs.contains(secret), "logs leak {secret:?}");
    }
}
