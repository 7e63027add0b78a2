//! One `/rtc` WebSocket session: protobuf (or JSON) frames between a LiveKit client and
//! the SFU task. Pings are answered here, so the SFU core never needs the wall clock.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use livekit_protocol as proto;
use prost::Message as _;
use proto::{DisconnectReason, signal_request, signal_response};

use crate::rtc::grants::JoinGrant;
use crate::rtc::limits;
use crate::sfu::PeerMode;
use crate::sfu::driver::{SfuHandle, SignalEvent, unix_ms};

/// Silence from the client longer than this ends the session (LiveKit's ping timeout).
const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// Frame encoding the client chose (it may use JSON text frames).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

/// Runs a session until either side ends it.
pub(crate) async fn run(
    mut socket: WebSocket,
    sfu: SfuHandle,
    grant: JoinGrant,
    request: proto::JoinRequest,
    connection: (PeerMode, bool),
    ice_servers: Vec<proto::IceServer>,
) {
    let joined = sfu.join(grant, request, connection, unix_ms(), ice_servers);
    let Some((conn, mut events)) = joined.await else {
        return;
    };
    let mut encoding = Encoding::Protobuf;
    let mut rate = limits::MessageRate::new(Instant::now());
    let mut last_heard = Instant::now();
    let mut watchdog = tokio::time::interval(Duration::from_secs(1));
    let mut sfu_closed = false;
    // A dropped socket may come back (resume); one that broke the protocol may not.
    let mut resumable = true;
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let request = match frame {
                    Some(Ok(Message::Binary(bytes))) => {
                        encoding = Encoding::Protobuf;
                        proto::SignalRequest::decode(bytes).ok()
                    }
                    Some(Ok(Message::Text(text))) => {
                        encoding = Encoding::Json;
                        serde_json::from_str::<proto::SignalRequest>(text.as_str()).ok()
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        last_heard = Instant::now();
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                };
                last_heard = Instant::now();
                let checked = rate.take(last_heard).and_then(|()| match &request {
                    Some(proto::SignalRequest { message: Some(message) }) => limits::check(message),
                    _ => Ok(()),
                });
                if let Err(violation) = checked {
                    // A clear close for the abuser; the room never saw the message.
                    tracing::info!(conn, why = violation.0, "rtc session closed for exceeding signal limits");
                    let _ = send(&mut socket, encoding, leave(DisconnectReason::StateMismatch)).await;
                    let close = CloseFrame { code: close_code::POLICY, reason: violation.0.into() };
                    let _ = socket.send(Message::Close(Some(close))).await;
                    resumable = false;
                    break;
                }
                let Some(request) = request else {
                    tracing::info!(conn, "rtc session sent an undecodable frame");
                    let leave = leave(DisconnectReason::StateMismatch);
                    let _ = send(&mut socket, encoding, leave).await;
                    resumable = false;
                    break;
                };
                match request.message {
                    Some(signal_request::Message::Ping(timestamp)) => {
                        let pong = signal_response::Message::Pong(timestamp);
                        if send(&mut socket, encoding, pong).await.is_err() { break; }
                    }
                    Some(signal_request::Message::PingReq(ping)) => {
                        let pong = signal_response::Message::PongResp(proto::Pong {
                            last_ping_timestamp: ping.timestamp,
                            timestamp: unix_ms(),
                        });
                        if send(&mut socket, encoding, pong).await.is_err() { break; }
                    }
                    Some(message) => sfu.signal(conn, message).await,
                    None => {}
                }
            }
            event = events.recv() => match event {
                Some(SignalEvent::Message(message)) => {
                    if send(&mut socket, encoding, *message).await.is_err() { break; }
                }
                Some(SignalEvent::SectionsAssigned(assigned)) => {
                    // A JSON client never asked: the extension is protobuf only.
                    let frame = Message::Binary(assigned.to_frame().into());
                    if encoding == Encoding::Protobuf && socket.send(frame).await.is_err() {
                        break;
                    }
                }
                Some(SignalEvent::Close(_)) | None => {
                    sfu_closed = true;
                    break;
                }
            },
            _ = watchdog.tick() => {
                if last_heard.elapsed() > PING_TIMEOUT {
                    tracing::info!(conn, "rtc session timed out");
                    break;
                }
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    if !sfu_closed {
        sfu.disconnect(conn, resumable).await;
    }
}

fn leave(reason: DisconnectReason) -> signal_response::Message {
    signal_response::Message::Leave(proto::LeaveRequest {
        can_reconnect: false,
        reason: reason as i32,
        action: proto::leave_request::Action::Disconnect as i32,
        regions: None,
    })
}

async fn send(
    socket: &mut WebSocket,
    encoding: Encoding,
    message: signal_response::Message,
) -> Result<(), axum::Error> {
    let response = proto::SignalResponse {
        message: Some(message),
    };
    let frame = match encoding {
        Encoding::Protobuf => Message::Binary(response.encode_to_vec().into()),
        Encoding::Json => match serde_json::to_string(&response) {
            Ok(text) => Message::Text(text.into()),
            Err(_) => return Ok(()),
        },
    };
    socket.send(frame).await
}
