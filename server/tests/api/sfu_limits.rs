//! An abusive participant is closed with a clear reason; the room carries on.

use futures_util::SinkExt;
use livekit_protocol as proto;
use prost::Message as _;
use proto::signal_request::Message as Request;
use proto::signal_response::Message as Response;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::spawn_app;
use crate::room_service::{join, next_response};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends a request; a socket the server already closed swallows it.
async fn send(socket: &mut Socket, message: Request) {
    let frame = proto::SignalRequest {
        message: Some(message),
    }
    .encode_to_vec();
    let _ = socket.send(Message::Binary(frame.into())).await;
}

fn add_track(cid: &str, name: String) -> Request {
    Request::AddTrack(proto::AddTrackRequest {
        cid: cid.into(),
        name,
        r#type: proto::TrackType::Video as i32,
        source: proto::TrackSource::Camera as i32,
        ..Default::default()
    })
}

/// Reads until the session closes, returning whether a `leave` came before the close.
async fn closed_with_leave(socket: &mut Socket) -> bool {
    let mut left = false;
    while let Some(message) = next_response(socket).await {
        left |= matches!(message, Response::Leave(_));
    }
    left
}

/// The other participant's session still answers pings, and nothing it received was big.
async fn still_served(socket: &mut Socket) {
    send(socket, Request::Ping(42)).await;
    loop {
        let message = next_response(socket).await.expect("the session stays open");
        assert!(
            message.encoded_len() < 16 * 1024,
            "a bystander was sent a {}-byte message",
            message.encoded_len()
        );
        if matches!(message, Response::Pong(42)) {
            return;
        }
    }
}

#[tokio::test]
async fn a_track_with_a_60_kb_name_closes_its_sender_and_never_reaches_the_room() {
    let app = spawn_app().await;
    let mut patient = join(&app, "visit-abuse", "patient").await;
    let mut abuser = join(&app, "visit-abuse", "abuser").await;
    send(&mut abuser, add_track("TR_a", "n".repeat(60_000))).await;
    assert!(closed_with_leave(&mut abuser).await);
    still_served(&mut patient).await;
}

#[tokio::test]
async fn publishing_more_than_sixteen_tracks_closes_the_publisher() {
    let app = spawn_app().await;
    let mut patient = join(&app, "visit-tracks", "patient").await;
    let mut abuser = join(&app, "visit-tracks", "abuser").await;
    for n in 0..17 {
        send(
            &mut abuser,
            add_track(&format!("TR_{n}"), format!("camera {n}")),
        )
        .await;
    }
    let mut published = 0;
    let mut left = false;
    while let Some(message) = next_response(&mut abuser).await {
        match message {
            Response::TrackPublished(_) => published += 1,
            Response::Leave(_) => left = true,
            _ => {}
        }
    }
    assert_eq!(published, 16);
    assert!(left);
    still_served(&mut patient).await;
}

#[tokio::test]
async fn a_flood_of_signal_messages_closes_the_flooder() {
    let app = spawn_app().await;
    let mut patient = join(&app, "visit-flood", "patient").await;
    let mut abuser = join(&app, "visit-flood", "abuser").await;
    for _ in 0..400 {
        send(
            &mut abuser,
            Request::Subscription(proto::UpdateSubscription {
                track_sids: vec!["TR_made_up".into()],
                subscribe: false,
                ..Default::default()
            }),
        )
        .await;
    }
    assert!(closed_with_leave(&mut abuser).await);
    still_served(&mut patient).await;
}
