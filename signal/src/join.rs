//! The WebSocket URL that joins a room.
//!
//! `/rtc/v1` (one peer connection) carries a base64url `WrappedJoinRequest` with the
//! client's first offer inside; `/rtc` (two peer connections, the fallback) carries the
//! v0 query string. Both take the access token as `access_token`. Compression of the
//! join request is left to the driver (browsers have `CompressionStream`); this module
//! sends it uncompressed unless given compressed bytes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message as _;

use crate::proto;

/// Protocol version spoken (LiveKit's `protocolVersion`).
pub const PROTOCOL_VERSION: i32 = 17;

/// Which signaling flow to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectMode {
    /// `/rtc/v1`: one peer connection, the first offer inside the join request.
    SinglePeerConnection,
    /// `/rtc`: a publisher and a subscriber peer connection (the fallback).
    TwoPeerConnections,
}

/// What the join says about the client and its wishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOptions {
    /// Subscribe to every track automatically.
    pub auto_subscribe: bool,
    /// The client reports video element sizes (adaptive stream).
    pub adaptive_stream: bool,
    /// SDK name reported to the server (`client_info.sdk` is an enum; this goes in
    /// `client_info.os` / the `sdk` query parameter).
    pub sdk: String,
    /// Client version.
    pub version: String,
    /// Resuming: the participant sid of the session to resume.
    pub resume_sid: Option<String>,
    /// Ask for open receive sections (single connection; Bedside's extension, see
    /// [`crate::ext`]): the client must then handle [`crate::Event::SectionsAssigned`].
    pub open_sections: bool,
}

impl Default for JoinOptions {
    fn default() -> Self {
        Self {
            auto_subscribe: true,
            adaptive_stream: true,
            sdk: "rust".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            resume_sid: None,
            open_sections: false,
        }
    }
}

/// The URL to open. `base` is the server (`ws(s)://host[:port]`, with or without a
/// trailing slash); `offer` is the first offer (single peer connection only).
pub fn join_url(
    base: &str,
    token: &str,
    mode: ConnectMode,
    options: &JoinOptions,
    offer: Option<&str>,
) -> String {
    let base = base.trim_end_matches('/');
    match mode {
        ConnectMode::SinglePeerConnection => {
            let request = proto::JoinRequest {
                client_info: Some(proto::ClientInfo {
                    sdk: proto::client_info::Sdk::Rust as i32,
                    version: options.version.clone(),
                    protocol: PROTOCOL_VERSION,
                    ..Default::default()
                }),
                connection_settings: Some(proto::ConnectionSettings {
                    auto_subscribe: options.auto_subscribe,
                    adaptive_stream: options.adaptive_stream,
                    ..Default::default()
                }),
                publisher_offer: offer.map(|sdp| proto::SessionDescription {
                    r#type: "offer".into(),
                    sdp: sdp.into(),
                    id: 1,
                    ..Default::default()
                }),
                reconnect: options.resume_sid.is_some(),
                participant_sid: options.resume_sid.clone().unwrap_or_default(),
                ..Default::default()
            };
            let wrapped = proto::WrappedJoinRequest {
                compression: proto::wrapped_join_request::Compression::None as i32,
                join_request: request.encode_to_vec(),
            };
            let join_request = URL_SAFE_NO_PAD.encode(wrapped.encode_to_vec());
            let mut url = format!(
                "{base}/rtc/v1?access_token={}&join_request={join_request}",
                encode(token)
            );
            if options.open_sections {
                url.push_str(&format!("&{}=1", crate::ext::OPEN_SECTIONS_PARAM));
            }
            url
        }
        ConnectMode::TwoPeerConnections => {
            let mut url = format!(
                "{base}/rtc?access_token={}&auto_subscribe={}&adaptive_stream={}&sdk={}&version={}&protocol={PROTOCOL_VERSION}",
                encode(token),
                u8::from(options.auto_subscribe),
                u8::from(options.adaptive_stream),
                encode(&options.sdk),
                encode(&options.version),
            );
            if let Some(sid) = &options.resume_sid {
                url.push_str(&format!("&reconnect=1&sid={}", encode(sid)));
            }
            url
        }
    }
}

/// Percent-encodes a query value (unreserved characters pass).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(url: &str, key: &str) -> Option<String> {
        url.split_once('?')?.1.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| v.to_owned())
        })
    }

    #[test]
    fn the_single_connection_join_carries_the_offer_and_settings_in_a_wrapped_request() {
        let options = JoinOptions {
            auto_subscribe: false,
            ..Default::default()
        };
        let url = join_url(
            "wss://media.example/",
            "tok.en",
            ConnectMode::SinglePeerConnection,
            &options,
            Some("v=0\r\n"),
        );
        assert!(url.starts_with("wss://media.example/rtc/v1?access_token=tok.en&join_request="));
        let bytes = URL_SAFE_NO_PAD
            .decode(query(&url, "join_request").unwrap())
            .unwrap();
        let wrapped = proto::WrappedJoinRequest::decode(bytes.as_slice()).unwrap();
        let request = proto::JoinRequest::decode(wrapped.join_request.as_slice()).unwrap();
        assert_eq!(request.publisher_offer.unwrap().sdp, "v=0\r\n");
        let settings = request.connection_settings.unwrap();
        assert!(!settings.auto_subscribe && settings.adaptive_stream);
        assert_eq!(request.client_info.unwrap().protocol, PROTOCOL_VERSION);
        assert!(!request.reconnect);
        assert_eq!(query(&url, crate::ext::OPEN_SECTIONS_PARAM), None);
    }

    #[test]
    fn a_client_that_handles_open_sections_asks_for_them_in_the_url() {
        let options = JoinOptions {
            open_sections: true,
            ..Default::default()
        };
        let url = join_url(
            "ws://127.0.0.1:3000",
            "token",
            ConnectMode::SinglePeerConnection,
            &options,
            Some("v=0\r\n"),
        );
        assert_eq!(
            query(&url, crate::ext::OPEN_SECTIONS_PARAM).as_deref(),
            Some("1")
        );
    }

    #[test]
    fn the_two_connection_join_uses_the_v0_query_and_asks_to_resume_with_the_sid() {
        let options = JoinOptions {
            resume_sid: Some("PA_abc".into()),
            ..Default::default()
        };
        let url = join_url(
            "ws://127.0.0.1:3000",
            "a b",
            ConnectMode::TwoPeerConnections,
            &options,
            None,
        );
        assert!(url.starts_with("ws://127.0.0.1:3000/rtc?"));
        assert_eq!(query(&url, "access_token").as_deref(), Some("a%20b"));
        assert_eq!(query(&url, "protocol").as_deref(), Some("17"));
        assert_eq!(query(&url, "reconnect").as_deref(), Some("1"));
        assert_eq!(query(&url, "sid").as_deref(), Some("PA_abc"));
    }
}
