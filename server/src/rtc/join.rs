//! The join request carried by the `/rtc` URL: `join_request` (protocol 16+, `/rtc/v1`:
//! base64url of a `WrappedJoinRequest`, possibly gzip-compressed) or the older plain
//! query parameters (`/rtc`).

use std::collections::HashMap;
use std::io::Read;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use livekit_protocol as proto;
use prost::Message as _;

/// Largest accepted join request after decompression (it carries one SDP offer).
const MAX_JOIN_REQUEST: u64 = 256 * 1024;

/// Why a join request was refused (safe to show to the client).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoinRequestError {
    /// Not base64url.
    #[error("join_request is not base64url")]
    Encoding,
    /// Not a (wrapped) join request, or a broken gzip stream.
    #[error("join_request is malformed")]
    Malformed,
    /// Bigger than any real client sends.
    #[error("join_request is too large")]
    TooLarge,
}

const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes `/rtc/v1`'s `join_request` parameter.
pub fn from_wrapped(param: &str) -> Result<proto::JoinRequest, JoinRequestError> {
    let bytes = BASE64URL
        .decode(param.trim())
        .map_err(|_| JoinRequestError::Encoding)?;
    let wrapped =
        proto::WrappedJoinRequest::decode(&bytes[..]).map_err(|_| JoinRequestError::Malformed)?;
    let inner = match proto::wrapped_join_request::Compression::try_from(wrapped.compression) {
        Ok(proto::wrapped_join_request::Compression::None) => wrapped.join_request,
        Ok(proto::wrapped_join_request::Compression::Gzip) => gunzip(&wrapped.join_request)?,
        Err(_) => return Err(JoinRequestError::Malformed),
    };
    proto::JoinRequest::decode(&inner[..]).map_err(|_| JoinRequestError::Malformed)
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, JoinRequestError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_JOIN_REQUEST + 1)
        .read_to_end(&mut out)
        .map_err(|_| JoinRequestError::Malformed)?;
    if out.len() as u64 > MAX_JOIN_REQUEST {
        return Err(JoinRequestError::TooLarge);
    }
    Ok(out)
}

/// Builds the join request of the older `/rtc` form from its query parameters.
pub fn from_query(query: &HashMap<String, String>) -> proto::JoinRequest {
    let flag = |name: &str| {
        query
            .get(name)
            .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
    };
    proto::JoinRequest {
        connection_settings: Some(proto::ConnectionSettings {
            auto_subscribe: query.get("auto_subscribe").is_none_or(|v| v != "0"),
            adaptive_stream: flag("adaptive_stream"),
            ..Default::default()
        }),
        reconnect: flag("reconnect"),
        participant_sid: query.get("sid").cloned().unwrap_or_default(),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "join_test.rs"]
mod tests;
