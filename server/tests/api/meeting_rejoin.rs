//! A patient's page that reloads (or loses its network) joins the room again under the
//! same identity, with a token minted before the clinician's decision. Admission must
//! reach that new session, whenever the click lands: while the old session lingers, or
//! between the two connections.

use crate::helpers::{TestApp, spawn_app};
use crate::room_service::{Socket, join_with_token, room_client, wait_for};
use crate::visit_fixture::*;

/// A patient in the waiting room on their first connection.
struct WaitingPatient {
    visit: Visit,
    meeting: Created,
    browser: reqwest::Client,
    socket: Socket,
}

async fn waiting_patient(app: &TestApp) -> WaitingPatient {
    let visit = visit(app).await;
    let meeting = create_meeting(app, &visit).await;
    let (browser, _) = patient_with_link(app, &visit, &meeting).await;
    let first = patient_token_json(app, &browser, &meeting.id).await;
    let socket = join_with_token(app, first["token"].as_str().unwrap()).await;
    until_state(app, &visit, &meeting, &meeting.patient_id, "waiting").await;
    WaitingPatient {
        visit,
        meeting,
        browser,
        socket,
    }
}

/// The media server drops the patient's connection; the meeting shows them `left`.
async fn drop_from_room(app: &TestApp, visit: &Visit, meeting: &Created) {
    let room = meeting.body["room_name"].as_str().unwrap();
    room_client(app)
        .remove_participant(room, &meeting.patient_id)
        .await
        .unwrap();
    until_state(app, visit, meeting, &meeting.patient_id, "left").await;
}

#[tokio::test]
async fn a_patient_admitted_while_their_page_reloads_gets_the_admitted_rights_on_the_new_page() {
    let app = spawn_app().await;
    let WaitingPatient {
        visit,
        meeting,
        browser: patient,
        socket: old_socket,
    } = waiting_patient(&app).await;

    // The page reloads: its socket drops without a goodbye (the old session lingers,
    // resumable), and the new page fetches its token while still waiting.
    drop(old_socket);
    let new_page = patient_token_json(&app, &patient, &meeting.id).await;
    assert_eq!(
        grants(new_page["token"].as_str().unwrap())["canPublish"],
        false
    );
    // The clinician admits now: the lingering old session is the one in the room.
    admit_patient(&app, &visit, &meeting).await;

    joins_with_the_admitted_rights(&app, &visit, &meeting, &new_page).await;
}

#[tokio::test]
async fn a_patient_between_two_connections_can_be_admitted_and_joins_with_the_admitted_rights() {
    let app = spawn_app().await;
    let WaitingPatient {
        visit,
        meeting,
        browser: patient,
        socket: _first_socket,
    } = waiting_patient(&app).await;

    // The connection is gone (here: removed by the media server), and the page has
    // already fetched the token for its next one.
    drop_from_room(&app, &visit, &meeting).await;
    let next = patient_token_json(&app, &patient, &meeting.id).await;

    // Admitting a patient who left the waiting room a moment ago is not refused: they are
    // admitted, and the call is theirs when they are back.
    let admitted = admit_patient(&app, &visit, &meeting).await;
    assert_eq!(admitted["live"], false);
    joins_with_the_admitted_rights(&app, &visit, &meeting, &next).await;
}

#[tokio::test]
async fn an_admitted_patient_whose_connection_drops_comes_back_to_the_call_not_the_waiting_room() {
    let app = spawn_app().await;
    let WaitingPatient {
        visit,
        meeting,
        browser: patient,
        socket: _first_socket,
    } = waiting_patient(&app).await;
    assert_eq!(admit_patient(&app, &visit, &meeting).await["live"], true);
    until_state(&app, &visit, &meeting, &meeting.patient_id, "in_call").await;

    drop_from_room(&app, &visit, &meeting).await;

    let back = patient_token_json(&app, &patient, &meeting.id).await;
    let video = grants(back["token"].as_str().unwrap());
    assert_eq!(video["canPublish"], true, "the new token publishes");
    assert_ne!(video["hidden"], true, "and is visible");
    let _socket = join_with_token(&app, back["token"].as_str().unwrap()).await;
    until_state(&app, &visit, &meeting, &meeting.patient_id, "in_call").await;
}

/// The patient's page joins with `token_json`'s token: the room grants it the admitted
/// rights (subscribe, data) and the meeting shows the patient in the call.
async fn joins_with_the_admitted_rights(
    app: &TestApp,
    visit: &Visit,
    meeting: &Created,
    token_json: &serde_json::Value,
) {
    let mut socket = join_with_token(app, token_json["token"].as_str().unwrap()).await;
    let permission = wait_for(&mut socket, |m| admitted_permission(m, &meeting.patient_id)).await;
    assert!(permission.can_subscribe && permission.can_publish_data);
    until_state(app, visit, meeting, &meeting.patient_id, "in_call").await;
}
