//! What can go wrong, typed, each with a message a patient or clinician can act on.
//! Nothing in this crate panics on a browser's or server's answer; every failure ends
//! up here.

use wasm_bindgen::JsValue;

use crate::js;

/// A failure of the media client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The browser or the user refused camera/microphone (or screen) access.
    PermissionDenied,
    /// No camera or microphone matches.
    NoDevice,
    /// The device exists but another application holds it.
    DeviceInUse,
    /// This browser lacks WebRTC, WebSocket or media capture.
    UnsupportedBrowser,
    /// The server refused the token: expired, forged, or without the grant.
    Forbidden(String),
    /// The media server could not be reached (network, firewall, server down).
    Unreachable,
    /// The connection was lost and could not be recovered.
    ConnectionLost,
    /// The server ended our participation (removed, room closed, duplicate identity).
    Disconnected(String),
    /// The room is not connected (the call needs a connected room).
    NotConnected,
    /// Publishing is not allowed by our current grant.
    NotAllowedToPublish,
    /// Something unexpected in the browser; the detail is for developers.
    Browser(String),
}

impl ClientError {
    /// A plain-words message for people.
    pub fn human_message(&self) -> String {
        match self {
            Self::PermissionDenied => "Camera or microphone access was blocked. Click the camera icon in the address bar, choose Allow, and try again.".into(),
            Self::NoDevice => "No camera or microphone was found. Plug one in, or check that it is switched on, and try again.".into(),
            Self::DeviceInUse => "Your camera or microphone is being used by another app. Close other video apps (Zoom, Teams, FaceTime) and try again.".into(),
            Self::UnsupportedBrowser => "This browser cannot make video calls. Please use a current Chrome, Edge, Firefox or Safari.".into(),
            Self::Forbidden(_) => "This link is no longer valid for the call. Ask the clinic for a new one.".into(),
            Self::Unreachable => "We could not reach the video service. Check your internet connection; if you are on a work or hotel network, it may block video calls.".into(),
            Self::ConnectionLost => "The connection was lost and could not be restored. Check your internet connection and rejoin.".into(),
            Self::Disconnected(_) => "You have left the call.".into(),
            Self::NotConnected => "The call is not connected yet.".into(),
            Self::NotAllowedToPublish => "You will be seen and heard once the clinician admits you.".into(),
            Self::Browser(_) => "Something went wrong in the browser. Reload the page and try again.".into(),
        }
    }

    /// Maps a `getUserMedia`/`getDisplayMedia` rejection (a `DOMException`).
    pub fn from_capture(error: &JsValue) -> Self {
        let (name, message) = js::describe(error);
        match name.as_str() {
            "NotAllowedError" | "SecurityError" => Self::PermissionDenied,
            "NotFoundError" | "OverconstrainedError" => Self::NoDevice,
            "NotReadableError" | "AbortError" => Self::DeviceInUse,
            "TypeError" if message.contains("mediaDevices") => Self::UnsupportedBrowser,
            _ => Self::Browser(format!("{name}: {message}")),
        }
    }

    /// Maps any other browser exception.
    pub fn from_js(error: &JsValue) -> Self {
        let (name, message) = js::describe(error);
        Self::Browser(format!("{name}: {message}"))
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Forbidden(detail) | Self::Disconnected(detail) | Self::Browser(detail)
                if !detail.is_empty() =>
            {
                write!(f, "{} ({detail})", self.human_message())
            }
            _ => f.write_str(&self.human_message()),
        }
    }
}

impl std::error::Error for ClientError {}
