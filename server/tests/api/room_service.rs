//! LiveKit's `RoomService` (Twirp) on the embedded SFU, driven by `livekit-api`'s own
//! `RoomClient`, with a participant session held open over a real `/rtc` WebSocket.

use futures_util::StreamExt;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::room::{CreateRoomOptions, RoomClient, UpdateParticipantOptions};
use livekit_protocol as proto;
use prost::Message as _;
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, spawn_app};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) fn keys(app: &TestApp) -> (String, String) {
    app.livekit_keys()
}

pub(crate) fn room_client(app: &TestApp) -> RoomClient {
    let (key, secret) = keys(app);
    RoomClient::with_api_key(&app.address, &key, &secret)
}

/// Joins `room` as `identity` over `/rtc` and returns the open signaling socket.
pub(crate) async fn join(app: &TestApp, room: &str, identity: &str) -> Socket {
    let (key, secret) = keys(app);
    let token = AccessToken::with_api_key(&key, &secret)
        .with_identity(identity)
        .with_grants(VideoGrants {
            room_join: true,
            room: room.into(),
            ..Default::default()
        })
        .to_jwt()
        .unwrap();
    join_with_token(app, &token).await
}

/// Joins over `/rtc` with an access token minted elsewhere (the meetings API).
pub(crate) async fn join_with_token(app: &TestApp, token: &str) -> Socket {
    join_at(&app.address.replace("http", "ws"), token).await
}

/// Joins the LiveKit-compatible server at `ws_url` (`ws://host:port`) with `token`.
pub(crate) async fn join_at(ws_url: &str, token: &str) -> Socket {
    let url = format!("{ws_url}/rtc?access_token={token}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = next_response(&mut socket).await.expect("a join response");
    assert!(matches!(first, proto::signal_response::Message::Join(_)));
    socket
}

/// The next signal response on the socket (`None` once it closes).
pub(crate) async fn next_response(socket: &mut Socket) -> Option<proto::signal_response::Message> {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("the server answers within 10 s");
        match frame {
            Some(Ok(Message::Binary(bytes))) => {
                return proto::SignalResponse::decode(bytes).unwrap().message;
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads signal responses until one matches.
pub(crate) async fn wait_for<T>(
    socket: &mut Socket,
    pick: impl Fn(proto::signal_response::Message) -> Option<T>,
) -> T {
    loop {
        let message = next_response(socket).await.expect("the session stays open");
        if let Some(found) = pick(message) {
            return found;
        }
    }
}

#[tokio::test]
async fn room_client_creates_lists_and_deletes_rooms() {
    let app = spawn_app().await;
    let client = room_client(&app);
    let options = CreateRoomOptions {
        empty_timeout: 120,
        metadata: "visit 42".into(),
        ..Default::default()
    };
    let room = client.create_room("visit-42", options).await.unwrap();
    assert_eq!(room.name, "visit-42");
    assert!(room.sid.starts_with("RM_"));
    assert_eq!(
        (room.metadata.as_str(), room.empty_timeout),
        ("visit 42", 120)
    );

    let rooms = client.list_rooms(vec![]).await.unwrap();
    assert_eq!(
        rooms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["visit-42"]
    );
    assert!(
        client
            .list_rooms(vec!["other".into()])
            .await
            .unwrap()
            .is_empty()
    );

    client.delete_room("visit-42").await.unwrap();
    assert!(client.list_rooms(vec![]).await.unwrap().is_empty());
    assert!(
        client.delete_room("visit-42").await.is_err(),
        "deleting twice is not found"
    );
}

#[tokio::test]
async fn room_client_sees_updates_and_removes_a_live_participant() {
    let app = spawn_app().await;
    let client = room_client(&app);
    let mut patient = join(&app, "visit-7", "patient-7").await;

    let participants = client.list_participants("visit-7").await.unwrap();
    assert_eq!(participants.len(), 1);
    assert!(participants[0].sid.starts_with("PA_"));
    let fetched = client
        .get_participant("visit-7", "patient-7")
        .await
        .unwrap();
    assert_eq!(fetched.identity, "patient-7");
    assert!(fetched.permission.as_ref().unwrap().can_publish);

    // Revoking publish is applied live: the participant is told in its own update.
    let options = UpdateParticipantOptions {
        metadata: "admitted".into(),
        permission: Some(proto::ParticipantPermission {
            can_subscribe: true,
            can_publish: false,
            can_publish_data: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let updated = client
        .update_participant("visit-7", "patient-7", options)
        .await
        .unwrap();
    assert_eq!(updated.metadata, "admitted");
    let own = wait_for(&mut patient, |m| match m {
        proto::signal_response::Message::Update(u) => u
            .participants
            .into_iter()
            .find(|p| p.identity == "patient-7"),
        _ => None,
    })
    .await;
    assert!(!own.permission.unwrap().can_publish);
    assert_eq!(own.metadata, "admitted");

    assert!(
        client
            .mute_published_track("visit-7", "patient-7", "TR_none", true)
            .await
            .is_err()
    );
    client
        .send_data("visit-7", b"hello".to_vec(), Default::default())
        .await
        .unwrap();

    client
        .remove_participant("visit-7", "patient-7")
        .await
        .unwrap();
    let leave = wait_for(&mut patient, |m| match m {
        proto::signal_response::Message::Leave(l) => Some(l),
        _ => None,
    })
    .await;
    assert_eq!(
        leave.reason,
        proto::DisconnectReason::ParticipantRemoved as i32
    );
    assert!(
        next_response(&mut patient).await.is_none(),
        "the socket closes"
    );
    assert!(
        client
            .list_participants("visit-7")
            .await
            .unwrap()
            .is_empty()
    );
    let _ = patient.close(None).await;
}

#[tokio::test]
async fn room_service_refuses_missing_forged_and_under_granted_tokens() {
    let app = spawn_app().await;
    let (key, secret) = keys(&app);
    let url = format!("{}/twirp/livekit.RoomService/ListRooms", app.address);
    let token = |grants: VideoGrants, secret: &str| {
        AccessToken::with_api_key(&key, secret)
            .with_grants(grants)
            .to_jwt()
            .unwrap()
    };
    let post = |auth: Option<String>, method: &str| {
        let mut request = reqwest::Client::new()
            .post(url.replace("ListRooms", method))
            .header("content-type", "application/json")
            .body(r#"{"room":"visit-1","identity":"x"}"#);
        if let Some(auth) = auth {
            request = request.header("authorization", format!("Bearer {auth}"));
        }
        request.send()
    };
    let lister = VideoGrants {
        room_list: true,
        ..Default::default()
    };
    let cases = [
        (
            None,
            "ListRooms",
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Some(token(lister.clone(), "not-the-secret-0123456789012345")),
            "ListRooms",
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Some(token(lister.clone(), &secret)),
            "DeleteRoom",
            StatusCode::FORBIDDEN,
            "permission_denied",
        ),
        (
            Some(token(
                VideoGrants {
                    room_admin: true,
                    room: "visit-2".into(),
                    ..Default::default()
                },
                &secret,
            )),
            "ListParticipants",
            StatusCode::FORBIDDEN,
            "permission_denied",
        ),
        // A room-less roomAdmin is admin of no room (LiveKit requires an exact match).
        (
            Some(token(
                VideoGrants {
                    room_admin: true,
                    ..Default::default()
                },
                &secret,
            )),
            "RemoveParticipant",
            StatusCode::FORBIDDEN,
            "permission_denied",
        ),
        (
            Some(token(lister.clone(), &secret)),
            "NoSuchMethod",
            StatusCode::NOT_FOUND,
            "bad_route",
        ),
    ];
    for (auth, method, status, code) in cases {
        let response = post(auth, method).await.unwrap();
        assert_eq!(response.status(), status, "{method}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{method}");
    }
    // A JSON body that is not the method's message is malformed.
    let response = reqwest::Client::new()
        .post(url.clone())
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!("Bearer {}", token(lister, &secret)),
        )
        .body("[1,2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn metrics_are_for_operators_and_name_rooms_and_participants_by_sid_only() {
    let app = spawn_app().await;
    let (key, secret) = keys(&app);
    let _patient = join(&app, "visit-m", "patient-jordan").await;
    let url = format!("{}/metrics", app.address);
    let get = |token: Option<String>| {
        let mut request = reqwest::Client::new().get(url.clone());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.send()
    };
    assert_eq!(get(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let joiner = AccessToken::with_api_key(&key, &secret)
        .with_identity("x")
        .with_grants(VideoGrants {
            room_join: true,
            room: "visit-m".into(),
            ..Default::default()
        })
        .to_jwt()
        .unwrap();
    assert_eq!(
        get(Some(joiner)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // One room's admin sees only that room; the metrics cover all of them.
    let room_admin = AccessToken::with_api_key(&key, &secret)
        .with_grants(VideoGrants {
            room_admin: true,
            room: "visit-m".into(),
            ..Default::default()
        })
        .to_jwt()
        .unwrap();
    assert_eq!(
        get(Some(room_admin)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    let operator = AccessToken::with_api_key(&key, &secret)
        .with_grants(VideoGrants {
            room_list: true,
            ..Default::default()
        })
        .to_jwt()
        .unwrap();
    let response = get(Some(operator)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.contains("bedside_sfu_rooms 1"), "{text}");
    assert!(
        text.contains("bedside_sfu_participant_received_bytes_total{room=\"RM_"),
        "{text}"
    );
    assert!(text.contains("participant=\"PA_"), "{text}");
    assert!(
        text.contains("# TYPE bedside_sfu_participant_connection_quality gauge")
            && text.contains("bedside_sfu_participant_connection_quality{room=\"RM_"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE bedside_sfu_forward_delay_seconds histogram")
            && text
                .contains("bedside_sfu_forward_delay_seconds_bucket{kind=\"audio\",le=\"+Inf\"}"),
        "{text}"
    );
    assert!(
        !text.contains("patient-jordan") && !text.contains("visit-m"),
        "IDs only: {text}"
    );
}
