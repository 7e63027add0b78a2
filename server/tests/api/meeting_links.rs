//! The patient's side: one-tap links, their rejects, the grant matrix, admission and
//! rejection, consent and the recorder token, TURN credentials.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app_with;
use crate::helpers::{error_code, spawn_app};
use crate::visit_fixture::*;

#[tokio::test]
async fn the_emailed_link_says_who_and_when_and_only_an_explicit_post_redeems_it() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let link = send_link(&app, &visit, &meeting).await;

    let message: String =
        sqlx::query_scalar("select body from dev_outbox order by dev_outbox_id desc limit 1")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(
        !message.contains("Follow-up"),
        "no reason for the visit in the message"
    );
    assert!(message.contains("Demo Clinic"));

    let info: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/meetings/verify-token", app.address))
        .header("authorization", format!("Link {link}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["first_name"], "Maria");
    assert_eq!(info["meeting_id"], meeting.id.as_str());
    assert_eq!(info["time_zone"], "America/New_York");
    assert!(info.get("reason").is_none() && info.get("email").is_none());
    // Looking at the link redeemed nothing.
    let sessions: i64 = sqlx::query_scalar("select count(*) from visit_session")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(sessions, 0);

    let patient = browser();
    let redeemed = redeem(&app, &patient, &link).await;
    assert_eq!(redeemed.status(), StatusCode::CREATED);
    let cookie = redeemed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    // The same link again (a reload, or the phone): the older session is replaced.
    let phone = browser();
    assert_eq!(
        redeem(&app, &phone, &link).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        patient_token(&app, &patient, &meeting.id).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        patient_token(&app, &phone, &meeting.id).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_waiting_patient_gets_a_hidden_token_without_media_rights_until_admitted() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;

    let waiting: Value = patient_token_json(&app, &patient, &meeting.id).await;
    let video = grants(waiting["token"].as_str().unwrap());
    assert_eq!(video["hidden"], true);
    assert_eq!(video["canPublish"], false);
    assert_eq!(video["canSubscribe"], false);
    assert_eq!(video["canPublishData"], false);
    assert!(video.get("roomAdmin").is_none());
    assert_eq!(waiting["identity"], meeting.patient_id.as_str());

    admit_patient(&app, &visit, &meeting).await;
    let after: Value = patient_token_json(&app, &patient, &meeting.id).await;
    let video = grants(after["token"].as_str().unwrap());
    assert!(video.get("hidden").is_none());
    assert_eq!(video["canPublish"], true);
    assert_eq!(video["canSubscribe"], true);
    assert_eq!(video["canPublishData"], true);
    assert_eq!(
        state_of(&read(&app, &visit, &meeting).await, &meeting.patient_id),
        "admitted"
    );
}

#[tokio::test]
async fn a_workspace_may_let_waiting_patients_preview_without_publishing() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    sqlx::query("update workspace set waiting_room_preview = true")
        .execute(&app.owner)
        .await
        .unwrap();
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let token: Value = patient_token_json(&app, &patient, &meeting.id).await;
    let video = grants(token["token"].as_str().unwrap());
    assert_eq!(
        (
            video["canSubscribe"].clone(),
            video["canPublish"].clone(),
            video["hidden"].clone()
        ),
        (json!(true), json!(false), json!(true))
    );
}

#[tokio::test]
async fn a_rejected_patient_is_told_the_reason_and_gets_no_token() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, link) = patient_with_link(&app, &visit, &meeting).await;

    let rejected = app
        .post(
            &format!(
                "/api/v1/meetings/{}/participants/{}/reject",
                meeting.id, meeting.patient_id
            ),
            &visit.token,
            &json!({ "reason": "Please call the front desk to reschedule." }),
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    assert_eq!(
        patient_token(&app, &patient, &meeting.id).await.status(),
        StatusCode::FORBIDDEN
    );
    let body = read(&app, &visit, &meeting).await;
    let p = body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == meeting.patient_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(p["state"], "rejected");
    assert_eq!(
        p["rejection_reason"],
        "Please call the front desk to reschedule."
    );
    assert_eq!(
        redeem(&app, &browser(), &link).await.status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn wrong_expired_revoked_and_foreign_links_get_one_generic_answer_and_are_throttled() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let link = send_link(&app, &visit, &meeting).await;

    // A link used on another meeting's RSVP.
    let other = uuid::Uuid::new_v4();
    let foreign = reqwest::Client::new()
        .post(format!("{}/api/v1/meetings/{other}/rsvp", app.address))
        .json(&json!({ "link_token": link, "response": "accepted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
    let rsvp = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/meetings/{}/rsvp",
            app.address, meeting.id
        ))
        .json(&json!({ "link_token": link, "response": "accepted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rsvp.status(), StatusCode::NO_CONTENT);

    // Expired.
    sqlx::query("update meeting_link set expires_at = now() - interval '1 second'")
        .execute(&app.owner)
        .await
        .unwrap();
    let expired = redeem(&app, &browser(), &link).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(expired).await, "invalid_link");
    // Revoked by the end of the meeting.
    sqlx::query("update meeting_link set expires_at = now() + interval '1 hour'")
        .execute(&app.owner)
        .await
        .unwrap();
    app.delete(&format!("/api/v1/meetings/{}", meeting.id), &visit.token)
        .await;
    assert_eq!(
        error_code(redeem(&app, &browser(), &link).await).await,
        "invalid_link"
    );
    // Forged links, until the source is slowed down.
    let mut statuses = Vec::new();
    for n in 0..15 {
        statuses.push(
            redeem(&app, &browser(), &format!("forged-link-{n}"))
                .await
                .status(),
        );
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS)
    );
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn sms_invitations_need_the_patients_agreement_to_texts() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let path = format!("/api/v1/meetings/{}/invite", meeting.id);

    let without = app
        .post(
            &path,
            &visit.token,
            &json!({ "participant_id": meeting.patient_id, "channel": "sms" }),
        )
        .await;
    assert_eq!(without.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let with = app
        .post(
            &path,
            &visit.token,
            &json!({ "participant_id": meeting.patient_id, "channel": "sms", "sms_consent": true }),
        )
        .await;
    assert_eq!(with.status(), StatusCode::ACCEPTED);
    let (recipient, body): (String, String) =
        sqlx::query_as("select recipient, body from dev_outbox where channel = 'sms' order by dev_outbox_id desc limit 1")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(recipient, "+15550102233");
    assert!(body.contains("/visit#"));
    let staff = app
        .post(
            &path,
            &visit.token,
            &json!({ "participant_id": meeting.clinician_participant, "channel": "email" }),
        )
        .await;
    assert_eq!(staff.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_recorder_token_waits_for_every_participants_consent() {
    let app = spawn_app().await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let (patient, _) = patient_with_link(&app, &visit, &meeting).await;
    let recorder = format!("/api/v1/video/auth-token?meeting_id={}", meeting.id);
    let consent =
        json!({ "meeting_id": meeting.id, "consent": true, "text_version": "recording-v1" });

    assert_eq!(
        app.get(&recorder, &visit.token).await.status(),
        StatusCode::CONFLICT
    );
    let clinician_consent = app
        .post("/api/v1/video/consent-log", &visit.token, &consent)
        .await;
    assert_eq!(clinician_consent.status(), StatusCode::CREATED);
    assert_eq!(
        app.get(&recorder, &visit.token).await.status(),
        StatusCode::CONFLICT
    );
    let patient_consent = patient
        .post(format!("{}/api/v1/video/consent-log", app.address))
        .json(&consent)
        .send()
        .await
        .unwrap();
    assert_eq!(patient_consent.status(), StatusCode::CREATED);

    let token: Value = app.get_json(&recorder, &visit.token).await;
    let video = grants(token["token"].as_str().unwrap());
    assert_eq!(video["roomRecord"], true);
    assert_eq!(
        video["room"],
        format!("appointment-{}", visit.appointment_id)
    );
    // A patient withdrawing consent closes the gate again.
    patient
        .post(format!("{}/api/v1/video/consent-log", app.address))
        .json(
            &json!({ "meeting_id": meeting.id, "consent": false, "text_version": "recording-v1" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.get(&recorder, &visit.token).await.status(),
        StatusCode::CONFLICT
    );
    // Patients cannot mint recorder tokens.
    let by_patient = patient
        .get(format!("{}{recorder}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(by_patient.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ice_servers_carry_ephemeral_turn_credentials_in_the_turn_rest_scheme() {
    let app = spawn_app_with(|s| {
        s.turn.turn_urls = vec!["turn:127.0.0.1:3478?transport=udp".into()];
        s.turn.stun_urls = vec!["stun:127.0.0.1:3478".into()];
        s.turn.secret = Some("turn-shared-secret".to_owned().into());
    })
    .await;
    let visit = visit(&app).await;
    let body: Value = app
        .get_json("/api/v1/video/ice-servers", &visit.token)
        .await;
    let servers = body["ice_servers"].as_array().unwrap();
    assert_eq!(servers.len(), 2);
    let turn = &servers[1];
    let username = turn["username"].as_str().unwrap();
    let (expiry, identity) = username.split_once(':').unwrap();
    assert_eq!(identity, visit.clinician.id.to_string());
    let expiry: i64 = expiry.parse().unwrap();
    assert!(expiry > chrono::Utc::now().timestamp() + 3000);
    let (_, credential) = server::meetings::turn::credential(
        &"turn-shared-secret".to_owned().into(),
        identity,
        expiry,
    );
    assert_eq!(turn["credential"], credential);
    let anonymous = reqwest::Client::new()
        .get(format!("{}/api/v1/video/ice-servers", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sfus_join_response_offers_the_same_turn_server_with_credentials_for_the_joiner() {
    use futures_util::StreamExt;
    use prost::Message as _;
    let app = spawn_app_with(|s| {
        s.turn.turn_urls = vec!["turn:127.0.0.1:3478?transport=udp".into()];
        s.turn.secret = Some("turn-shared-secret".to_owned().into());
    })
    .await;
    let visit = visit(&app).await;
    let meeting = create_meeting(&app, &visit).await;
    let url = format!(
        "{}/rtc?access_token={}",
        app.address.replace("http", "ws"),
        meeting.body["token"].as_str().unwrap()
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let join = loop {
        let frame = socket.next().await.unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Binary(bytes) = frame
            && let Some(livekit_protocol::signal_response::Message::Join(join)) =
                livekit_protocol::SignalResponse::decode(bytes)
                    .unwrap()
                    .message
        {
            break join;
        }
    };
    let turn = join
        .ice_servers
        .iter()
        .find(|s| s.urls.iter().any(|u| u.starts_with("turn:")))
        .expect("a TURN server");
    let (expiry, identity) = turn.username.split_once(':').unwrap();
    assert_eq!(identity, meeting.clinician_participant);
    let (_, credential) = server::meetings::turn::credential(
        &"turn-shared-secret".to_owned().into(),
        identity,
        expiry.parse().unwrap(),
    );
    assert_eq!(turn.credential, credential);
}
