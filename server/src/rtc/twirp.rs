//! LiveKit's `RoomService` over Twirp: `POST /twirp/livekit.RoomService/<Method>` with a
//! protobuf (`application/protobuf`) or JSON (`application/json`) body, authorized like
//! LiveKit by an API-key JWT whose video grant has `roomCreate` (create, delete),
//! `roomList` (list) or `roomAdmin` for the named room (participant operations).
//! `livekit-api`'s `RoomClient` works against it unchanged.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livekit_api::access_token::VideoGrants;
use livekit_protocol as proto;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RtcState;
use crate::sfu::driver::unix_ms;
use crate::sfu::{RoomServiceCall, RoomServiceError, RoomServiceReply};

/// Largest request body accepted (`SendData` carries a payload).
pub(crate) const MAX_BODY: usize = 1 << 20;

/// A Twirp error: its code and the HTTP status it travels with.
fn twirp_error(status: StatusCode, code: &str, msg: &str) -> Response {
    let body = serde_json::json!({ "code": code, "msg": msg });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A request that cannot be decoded: `malformed` (the body) or `bad_route` (the method).
pub(super) struct Undecodable(StatusCode, &'static str, &'static str);

impl IntoResponse for Undecodable {
    fn into_response(self) -> Response {
        twirp_error(self.0, self.1, self.2)
    }
}

/// `POST /twirp/livekit.RoomService/{method}`.
pub(crate) async fn room_service(
    State(state): State<RtcState>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Some(token) = super::bearer_token(&headers) else {
        return twirp_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "missing authorization",
        );
    };
    let Ok(grants) = state.keys.verify_api(token) else {
        return twirp_error(StatusCode::UNAUTHORIZED, "unauthenticated", "invalid token");
    };
    let call = match decode_call(&method, &body, json) {
        Ok(call) => call,
        Err(undecodable) => return undecodable.into_response(),
    };
    if let Err(why) = authorize(&grants, &call) {
        return twirp_error(StatusCode::FORBIDDEN, "permission_denied", why);
    }
    match state.sfu.room_service(call, unix_ms()).await {
        None => twirp_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "sfu stopped",
        ),
        Some(Err(error @ RoomServiceError::NotFound(_))) => {
            twirp_error(StatusCode::NOT_FOUND, "not_found", &error.to_string())
        }
        Some(Err(error @ RoomServiceError::InvalidArgument(_))) => twirp_error(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            &error.to_string(),
        ),
        Some(Ok(reply)) => encode_reply(reply, json),
    }
}

fn decode<T: Message + Default + DeserializeOwned>(
    body: &[u8],
    json: bool,
) -> Result<T, Undecodable> {
    let decoded = if json {
        serde_json::from_slice(body).ok()
    } else {
        T::decode(body).ok()
    };
    decoded.ok_or(Undecodable(
        StatusCode::BAD_REQUEST,
        "malformed",
        "the request body does not decode",
    ))
}

pub(super) fn decode_call(
    method: &str,
    body: &[u8],
    json: bool,
) -> Result<RoomServiceCall, Undecodable> {
    use RoomServiceCall as C;
    Ok(match method {
        "CreateRoom" => C::CreateRoom(Box::new(decode(body, json)?)),
        "ListRooms" => C::ListRooms(decode(body, json)?),
        "DeleteRoom" => C::DeleteRoom(decode(body, json)?),
        "ListParticipants" => C::ListParticipants(decode(body, json)?),
        "GetParticipant" => C::GetParticipant(decode(body, json)?),
        "RemoveParticipant" => C::RemoveParticipant(decode(body, json)?),
        "UpdateParticipant" => C::UpdateParticipant(decode(body, json)?),
        "MutePublishedTrack" => C::MutePublishedTrack(decode(body, json)?),
        "UpdateSubscriptions" => C::UpdateSubscriptions(decode(body, json)?),
        "SendData" => C::SendData(decode(body, json)?),
        _ => {
            return Err(Undecodable(
                StatusCode::NOT_FOUND,
                "bad_route",
                "no such RoomService method",
            ));
        }
    })
}

/// LiveKit's rules: `roomCreate` to create or delete, `roomList` to list, `roomAdmin` for
/// the named room to act on its participants.
fn authorize(grants: &VideoGrants, call: &RoomServiceCall) -> Result<(), &'static str> {
    use RoomServiceCall as C;
    let room = match call {
        C::CreateRoom(_) | C::DeleteRoom(_) => {
            return grants
                .room_create
                .then_some(())
                .ok_or("roomCreate grant required");
        }
        C::ListRooms(_) => {
            return grants
                .room_list
                .then_some(())
                .ok_or("roomList grant required");
        }
        C::ListParticipants(r) => &r.room,
        C::GetParticipant(r) | C::RemoveParticipant(r) => &r.room,
        C::UpdateParticipant(r) => &r.room,
        C::MutePublishedTrack(r) => &r.room,
        C::UpdateSubscriptions(r) => &r.room,
        C::SendData(r) => &r.room,
    };
    // As LiveKit: `roomAdmin` is scoped to the token's room. A token without a room is
    // admin of nothing (it used to be admin of every room).
    if grants.room_admin && !grants.room.is_empty() && &grants.room == room {
        Ok(())
    } else {
        Err("roomAdmin grant for this room required")
    }
}

fn encode<T: Message + Serialize>(message: &T, json: bool) -> Response {
    if json {
        match serde_json::to_vec(message) {
            Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(_) => twirp_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "encoding failed",
            ),
        }
    } else {
        (
            [(header::CONTENT_TYPE, "application/protobuf")],
            message.encode_to_vec(),
        )
            .into_response()
    }
}

fn encode_reply(reply: RoomServiceReply, json: bool) -> Response {
    match reply {
        RoomServiceReply::Room(m) => encode(&m, json),
        RoomServiceReply::Rooms(m) => encode(&m, json),
        RoomServiceReply::Participants(m) => encode(&m, json),
        RoomServiceReply::Participant(m) => encode(&m, json),
        RoomServiceReply::Track(m) => encode(&m, json),
        RoomServiceReply::Empty => encode(&proto::DeleteRoomResponse {}, json),
    }
}
