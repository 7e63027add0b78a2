//! The patient's device check result: the visit session reports it, the clinician's
//! meeting shows it beside the patient; forged, malformed and late reports are refused.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::visit_fixture::*;

fn report_url(app: &crate::helpers::TestApp) -> String {
    format!("{}/api/v1/calls/device-check", app.address)
}

/// The browser `client` sends `body` as its device check.
async fn report(
    client: &reqwest::Client,
    app: &crate::helpers::TestApp,
    body: &Value,
) -> reqwest::Response {
    client
        .post(report_url(app))
        .json(body)
        .send()
        .await
        .unwrap()
}

fn patient_of<'a>(meeting: &'a Value, id: &str) -> &'a Value {
    meeting["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn a_patients_device_check_shows_in_the_clinicians_meeting_and_the_latest_run_wins() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    assert_eq!(
        patient_of(&read(&app, &visit, &meeting).await, &meeting.patient_id)["device_check"],
        Value::Null
    );

    let blocked = json!({
        "camera": "blocked", "microphone": "working", "round_trip_ms": null,
        "down_kbps": null, "up_kbps": null, "route": null
    });
    let sent = report(&patient, &app, &blocked).await;
    assert_eq!(sent.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        patient_of(&read(&app, &visit, &meeting).await, &meeting.patient_id)["device_check"],
        blocked
    );

    let fixed = json!({
        "camera": "working", "microphone": "working", "round_trip_ms": 24,
        "down_kbps": 45_000, "up_kbps": 12_000, "route": "tcp"
    });
    report(&patient, &app, &fixed).await;
    assert_eq!(
        patient_of(&read(&app, &visit, &meeting).await, &meeting.patient_id)["device_check"],
        fixed
    );
}

#[tokio::test]
async fn a_device_check_without_a_visit_session_or_with_a_bad_body_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let good = json!({ "camera": "working", "microphone": "working", "round_trip_ms": 10 });

    let stranger = report(&browser(), &app, &good).await;
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    // Staff have no device check to report: the endpoint is the patient's.
    let staff = app
        .post("/api/v1/calls/device-check", &visit.token, &good)
        .await;
    assert_eq!(staff.status(), StatusCode::UNAUTHORIZED);

    for bad in [
        json!({ "camera": "great", "microphone": "working", "round_trip_ms": 10 }),
        json!({ "camera": "working" }),
        json!({ "camera": "working", "microphone": "working", "round_trip_ms": -5 }),
    ] {
        let refused = report(&patient, &app, &bad).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let not_json = patient
        .post(report_url(&app))
        .header("content-type", "application/json")
        .body("{camera: working")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let too_fast = json!({ "camera": "working", "microphone": "working", "round_trip_ms": 9, "down_kbps": 20_000_000 });
    let refused = report(&patient, &app, &too_fast).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let too_slow = json!({ "camera": "working", "microphone": "working", "round_trip_ms": 60_001 });
    let refused = report(&patient, &app, &too_slow).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("round_trip_ms"), "{body}");

    assert_eq!(
        patient_of(&read(&app, &visit, &meeting).await, &meeting.patient_id)["device_check"],
        Value::Null
    );

    app.delete(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
        .await;
    let after_end = report(&patient, &app, &good).await;
    assert_eq!(after_end.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_speed_test_serves_a_visit_session_only_and_refuses_oversized_uploads() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let url = format!("{}/api/v1/calls/speed-test", app.address);

    let download = patient.get(&url).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["cache-control"], "no-store");
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len(), 256 * 1024);
    // Incompressible: no run of identical bytes a proxy could squeeze.
    assert!(bytes.windows(16).all(|w| w.iter().any(|b| *b != w[0])));

    let uploaded = patient
        .post(&url)
        .body(vec![0u8; 128 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::NO_CONTENT);
    let oversized = patient
        .post(&url)
        .body(vec![0u8; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(
        browser().get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/calls/speed-test", &visit.token)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
