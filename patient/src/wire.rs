//! The parts of the REST API's answers this page reads. The server's types are
//! `app::meetings` (the enums here are those); these are projections of its structs:
//! serde skips the fields not named, and ids and times stay strings. Parsing them would
//! link chrono and uuid into the patient's download (about 8 kB gzip) for values the
//! page only shows or sends back.

use app::meetings::{MeetingStatus, ParticipantRole, ParticipantState};
use serde::Deserialize;

/// `POST /api/v1/meetings/verify-token`: what the link is for.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkInfo {
    /// The meeting.
    pub meeting_id: String,
    /// When, in words and the clinic's time zone.
    pub when: String,
    /// Who the visit is with.
    pub clinician_name: String,
    /// The patient's first name.
    pub first_name: String,
    /// Whether the visit is still open.
    pub status: MeetingStatus,
}

/// `POST /api/v1/calls/heartbeat`: where the visit stands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VisitStatus {
    /// The meeting of the visit session.
    pub meeting_id: String,
    /// The patient's place.
    pub state: ParticipantState,
    /// The meeting's.
    pub meeting_status: MeetingStatus,
    /// Why the clinician turned them away, if they said.
    pub rejection_reason: Option<String>,
    /// The newest chat message, to know when to read the chat again.
    pub last_message_id: Option<i64>,
}

/// `POST /api/v1/livekit/token`: where to connect, with what.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaToken {
    /// The media server.
    pub livekit_url: String,
    /// The access token.
    pub token: String,
}

/// One message of `GET /api/v1/meetings/{id}/messages`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    /// Who sent it.
    pub sender_name: String,
    /// Their role.
    pub sender_role: ParticipantRole,
    /// What they wrote.
    pub body: String,
}
