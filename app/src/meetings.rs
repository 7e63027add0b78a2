//! Wire types of the meetings API (`/api/v1/meetings`, `/calls`, `/livekit`, `/video`),
//! shared by the server and the visit UI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A meeting's lifecycle: `waiting → ringing → in_call → ended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Created; the clinician has not joined the room yet.
    Waiting,
    /// The clinician is in the room.
    Ringing,
    /// An admitted patient is present with the clinician.
    InCall,
    /// Over: everyone was disconnected and links no longer open it.
    Ended,
}

impl MeetingStatus {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingStatus::Waiting => "waiting",
            MeetingStatus::Ringing => "ringing",
            MeetingStatus::InCall => "in_call",
            MeetingStatus::Ended => "ended",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "waiting" => MeetingStatus::Waiting,
            "ringing" => MeetingStatus::Ringing,
            "in_call" => MeetingStatus::InCall,
            "ended" => MeetingStatus::Ended,
            _ => return None,
        })
    }
}

/// Who a participant is in the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// Staff running the visit.
    Clinician,
    /// The patient of the appointment.
    Patient,
    /// Someone who accompanies the patient.
    Caregiver,
    /// A language interpreter.
    Interpreter,
}

impl ParticipantRole {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::Clinician => "clinician",
            ParticipantRole::Patient => "patient",
            ParticipantRole::Caregiver => "caregiver",
            ParticipantRole::Interpreter => "interpreter",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "clinician" => ParticipantRole::Clinician,
            "patient" => ParticipantRole::Patient,
            "caregiver" => ParticipantRole::Caregiver,
            "interpreter" => ParticipantRole::Interpreter,
            _ => return None,
        })
    }

    /// Staff join signed in; everyone else joins from a link and waits to be admitted.
    pub fn is_staff(self) -> bool {
        self == ParticipantRole::Clinician
    }
}

/// Where a participant is in the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantState {
    /// Has a link, not here yet.
    Invited,
    /// In the waiting room.
    Waiting,
    /// Let in by the clinician.
    Admitted,
    /// In the room with media.
    InCall,
    /// Was here, left.
    Left,
    /// Turned away.
    Rejected,
}

impl ParticipantState {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantState::Invited => "invited",
            ParticipantState::Waiting => "waiting",
            ParticipantState::Admitted => "admitted",
            ParticipantState::InCall => "in_call",
            ParticipantState::Left => "left",
            ParticipantState::Rejected => "rejected",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "invited" => ParticipantState::Invited,
            "waiting" => ParticipantState::Waiting,
            "admitted" => ParticipantState::Admitted,
            "in_call" => ParticipantState::InCall,
            "left" => ParticipantState::Left,
            "rejected" => ParticipantState::Rejected,
            _ => return None,
        })
    }
}

/// A participant as the clinician's views show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Id; also the LiveKit identity.
    pub id: Uuid,
    /// Role.
    pub role: ParticipantRole,
    /// Display name.
    pub name: String,
    /// State.
    pub state: ParticipantState,
    /// `accepted` / `declined`, if they answered the invitation.
    pub rsvp: Option<String>,
    /// When they entered the waiting room.
    pub waiting_since: Option<DateTime<Utc>>,
    /// When they were admitted.
    pub admitted_at: Option<DateTime<Utc>>,
    /// When they joined the room.
    pub joined_at: Option<DateTime<Utc>>,
    /// When they left.
    pub left_at: Option<DateTime<Utc>>,
    /// When they were rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// The reason given to a rejected participant.
    pub rejection_reason: Option<String>,
    /// What their device check found, once they ran it.
    #[serde(default)]
    pub device_check: Option<DeviceCheckReport>,
}

/// What a patient's device check found, as the clinician's waiting panel shows it (no
/// device names: labels can carry a person's name, "Anna's iPhone camera").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCheckReport {
    /// The camera.
    pub camera: DeviceStatus,
    /// The microphone.
    pub microphone: DeviceStatus,
    /// The round trip to the clinic's server in ms; `None` when it did not answer.
    pub round_trip_ms: Option<u32>,
    /// Download throughput from the clinic's server, kbit/s, if measured.
    #[serde(default)]
    pub down_kbps: Option<u32>,
    /// Upload throughput to it, kbit/s, if measured.
    #[serde(default)]
    pub up_kbps: Option<u32>,
    /// How video reaches the media server, once the check's connection knows.
    #[serde(default)]
    pub route: Option<VideoRoute>,
}

/// How a participant's video reaches the media server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoRoute {
    /// Direct, over UDP.
    Udp,
    /// Direct, over TCP: the network blocks UDP.
    Tcp,
    /// Through a TURN relay.
    Relay,
}

impl VideoRoute {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            VideoRoute::Udp => "udp",
            VideoRoute::Tcp => "tcp",
            VideoRoute::Relay => "relay",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "udp" => VideoRoute::Udp,
            "tcp" => VideoRoute::Tcp,
            "relay" => VideoRoute::Relay,
            _ => return None,
        })
    }
}

/// A throughput for people: "85 Mbit/s" or "450 kbit/s".
pub fn describe_kbps(kbps: u32) -> String {
    if kbps >= 1000 {
        format!("{} Mbit/s", kbps / 1000)
    } else {
        format!("{kbps} kbit/s")
    }
}

/// The highest throughput a report may claim, kbit/s (10 Gbit/s).
pub const MAX_THROUGHPUT_KBPS: u32 = 10_000_000;

/// How one device fared in the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Captured and working.
    Working,
    /// The browser or the patient blocked it.
    Blocked,
    /// It failed (none found, or in use by another app).
    Failed,
}

impl DeviceStatus {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Working => "working",
            DeviceStatus::Blocked => "blocked",
            DeviceStatus::Failed => "failed",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "working" => DeviceStatus::Working,
            "blocked" => DeviceStatus::Blocked,
            "failed" => DeviceStatus::Failed,
            _ => return None,
        })
    }
}

/// The longest round trip a report may claim (a minute; anything above is not a
/// measurement).
pub const MAX_ROUND_TRIP_MS: u32 = 60_000;

/// A meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    /// Id.
    pub id: Uuid,
    /// The appointment it belongs to.
    pub appointment_id: Uuid,
    /// Lifecycle status.
    pub status: MeetingStatus,
    /// The LiveKit room (`appointment-{appointment_id}`).
    pub room_name: String,
    /// Where LiveKit clients connect (`ws(s)://…`).
    pub livekit_url: String,
    /// Scheduled start.
    pub starts_at: DateTime<Utc>,
    /// Planned length.
    pub duration_minutes: i32,
    /// Everyone in it.
    pub participants: Vec<Participant>,
}

/// `POST /meetings`: the meeting, with the calling clinician's access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingWithToken {
    /// The meeting.
    #[serde(flatten)]
    pub meeting: Meeting,
    /// The caller's LiveKit access token.
    pub token: String,
    /// The caller's participant id (LiveKit identity).
    pub identity: Uuid,
}

/// What a link is for, as the patient's landing page shows it; nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// The meeting.
    pub meeting_id: Uuid,
    /// Scheduled start.
    pub starts_at: DateTime<Utc>,
    /// The clinic's time zone (IANA), to show the time locally.
    pub time_zone: String,
    /// The start as the clinic writes it ("Tuesday 1 December at 9:30 (EST)").
    pub when: String,
    /// The clinician's display name.
    pub clinician_name: String,
    /// The participant's first name.
    pub first_name: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// The meeting's status (an ended visit's link opens the end screen).
    pub status: MeetingStatus,
}

/// A LiveKit access token for the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaToken {
    /// Where to connect.
    pub livekit_url: String,
    /// The JWT.
    pub token: String,
    /// The caller's identity in the room.
    pub identity: Uuid,
    /// The room.
    pub room_name: String,
    /// The caller's state (a waiting patient's token is hidden, without media rights).
    pub state: ParticipantState,
}

/// One ICE server entry, as `RTCPeerConnection` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` / `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN username (`expiry:identity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential (base64 HMAC-SHA1 of the username).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Where a patient's visit stands, as their waiting page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitStatus {
    /// The meeting the visit session belongs to.
    pub meeting_id: Uuid,
    /// The participant's state.
    pub state: ParticipantState,
    /// The meeting's status.
    pub meeting_status: MeetingStatus,
    /// The clinician's reason, when turned away.
    pub rejection_reason: Option<String>,
    /// The newest chat message's id (the page fetches when it grows).
    pub last_message_id: Option<i64>,
}

/// One chat message of a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Its id; ids grow in the order messages were stored.
    pub id: i64,
    /// Who sent it.
    pub participant_id: Uuid,
    /// Their display name.
    pub sender_name: String,
    /// Their role.
    pub sender_role: ParticipantRole,
    /// The text.
    pub body: String,
    /// When it was stored.
    pub sent_at: DateTime<Utc>,
}

/// A visit's SOAP note: a draft while the visit runs, filed on the patient's chart when
/// it ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SoapNote {
    /// Subjective: what the patient reports.
    pub subjective: String,
    /// Objective: what is observed and measured.
    pub objective: String,
    /// Assessment.
    pub assessment: String,
    /// Plan.
    pub plan: String,
    /// Last saved.
    pub updated_at: Option<DateTime<Utc>>,
    /// When it was filed on the chart (the visit ended).
    pub filed_at: Option<DateTime<Utc>>,
}
