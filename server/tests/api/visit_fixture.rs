//! A telehealth visit ready to run: a clinic, its clinician, a patient with email and
//! phone, a video appointment and (optionally) its meeting; helpers to send and redeem
//! the patient's link as a browser would.

use base64::Engine;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser};

/// A visit's actors and ids.
pub struct Visit {
    pub clinician: TestUser,
    pub token: String,
    pub appointment_id: String,
    pub workspace_id: Uuid,
}

/// A meeting created through the API.
pub struct Created {
    pub id: String,
    pub body: Value,
    pub patient_id: String,
    pub clinician_participant: String,
}

/// A clinic with a clinician and a telehealth appointment of patient "Maria Gonzalez".
pub async fn visit(app: &TestApp) -> Visit {
    let workspace_id = app.create_workspace("Demo Clinic").await;
    let clinician = app.create_user(workspace_id, "clinician").await;
    let token = app.token(&clinician).await;
    let response = app
        .post(
            "/api/v1/patients",
            &token,
            &json!({ "name": "Maria Gonzalez", "email": "maria@example.test", "phone": "+1 555 010 2233" }),
        )
        .await;
    let patient: Value = response.json().await.unwrap();
    let appointment = app
        .book(
            &token,
            patient["id"].as_str().unwrap(),
            &(chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339(),
        )
        .await;
    Visit {
        clinician,
        token,
        appointment_id: appointment["id"].as_str().unwrap().to_owned(),
        workspace_id,
    }
}

/// `POST /meetings` for the visit's appointment.
pub async fn create_meeting(app: &TestApp, visit: &Visit) -> Created {
    let response = app
        .post(
            "/api/v1/meetings",
            &visit.token,
            &json!({ "appointment_id": visit.appointment_id }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let participant = |role: &str| {
        body["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["role"] == role)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    Created {
        id: body["id"].as_str().unwrap().to_owned(),
        patient_id: participant("patient"),
        clinician_participant: participant("clinician"),
        body,
    }
}

/// Emails the patient their link and returns the token from the dev outbox.
pub async fn send_link(app: &TestApp, visit: &Visit, meeting: &Created) -> String {
    let response = app
        .post(
            &format!("/api/v1/meetings/{}/invite", meeting.id),
            &visit.token,
            &json!({ "participant_id": meeting.patient_id, "channel": "email" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: String = sqlx::query_scalar(
        "select body from dev_outbox where recipient = 'maria@example.test' order by dev_outbox_id desc limit 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    link_token(&body)
}

/// The token of a `/visit#TOKEN` link in a message body.
pub fn link_token(body: &str) -> String {
    let start = body.find("/visit#").expect("a visit link") + "/visit#".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

/// A patient's browser: its own cookie jar, no sign-in.
pub fn browser() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// Redeems a link in `browser` (`POST /calls/generate-token`).
pub async fn redeem(app: &TestApp, browser: &Client, link: &str) -> Response {
    browser
        .post(format!("{}/api/v1/calls/generate-token", app.address))
        .json(&json!({ "link_token": link }))
        .send()
        .await
        .unwrap()
}

/// `POST /livekit/token` from the patient's browser.
pub async fn patient_token(app: &TestApp, browser: &Client, meeting_id: &str) -> Response {
    browser
        .post(format!("{}/api/v1/livekit/token", app.address))
        .json(&json!({ "meeting_id": meeting_id }))
        .send()
        .await
        .unwrap()
}

/// The `video` grant of a LiveKit JWT (its payload, unverified: the test reads what it
/// was given).
pub fn grants(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["video"].clone()
}

/// The meeting as the clinician reads it.
pub async fn read(app: &TestApp, visit: &Visit, meeting: &Created) -> Value {
    app.get_json(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
        .await
}

/// The state of participant `id` in a meeting body.
pub fn state_of(meeting: &Value, id: &str) -> String {
    meeting["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The patient's browser after redeeming their emailed link, and the link.
pub async fn patient_with_link(
    app: &TestApp,
    visit: &Visit,
    meeting: &Created,
) -> (Client, String) {
    let link = send_link(app, visit, meeting).await;
    let patient = browser();
    assert_eq!(
        redeem(app, &patient, &link).await.status(),
        StatusCode::CREATED
    );
    (patient, link)
}

/// The patient's `POST /livekit/token` answer, as JSON.
pub async fn patient_token_json(app: &TestApp, browser: &Client, meeting_id: &str) -> Value {
    patient_token(app, browser, meeting_id)
        .await
        .json()
        .await
        .unwrap()
}

/// The clinician admits the meeting's patient: `200`, and the answer (`{live}`) as JSON.
pub async fn admit_patient(app: &TestApp, visit: &Visit, meeting: &Created) -> Value {
    let response = app
        .post(
            &format!(
                "/api/v1/meetings/{}/participants/{}/admit",
                meeting.id, meeting.patient_id
            ),
            &visit.token,
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls the meeting until participant `id` is in state `wanted` (10 s at most).
pub async fn until_state(app: &TestApp, visit: &Visit, meeting: &Created, id: &str, wanted: &str) {
    for _ in 0..200 {
        if state_of(&read(app, visit, meeting).await, id) == wanted {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("participant {id} never became {wanted}");
}

/// The permission in a participant update that admits `identity` (visible, publishing).
pub fn admitted_permission(
    message: livekit_protocol::signal_response::Message,
    identity: &str,
) -> Option<livekit_protocol::ParticipantPermission> {
    match message {
        livekit_protocol::signal_response::Message::Update(update) => update
            .participants
            .into_iter()
            .find(|p| p.identity == identity)
            .and_then(|p| p.permission)
            .filter(|p| p.can_publish && !p.hidden),
        _ => None,
    }
}
