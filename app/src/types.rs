//! Wire types: what crosses the network, both in the portal's server functions and in the
//! REST API (`/api/v1`). They carry no secrets (no password hashes, no session tokens).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a signed-in user may do in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the clinic: every appointment, clinicians, settings.
    Admin,
    /// Sees and changes their own appointments.
    Clinician,
}

impl Role {
    /// The value stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clinician => "clinician",
        }
    }

    /// Parses the stored form; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Role::Admin),
            "clinician" => Some(Role::Clinician),
            _ => None,
        }
    }
}

/// How an appointment takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// A video visit through Bedside.
    Telehealth,
    /// The patient comes to the clinic.
    InPerson,
}

impl Modality {
    /// The value stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Telehealth => "telehealth",
            Modality::InPerson => "in_person",
        }
    }

    /// Parses the stored form; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "telehealth" => Some(Modality::Telehealth),
            "in_person" => Some(Modality::InPerson),
            _ => None,
        }
    }

    /// Human label for the portal.
    pub fn label(self) -> &'static str {
        match self {
            Modality::Telehealth => "Video visit",
            Modality::InPerson => "In person",
        }
    }
}

/// Where an appointment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked, not started.
    Scheduled,
    /// The visit is under way.
    InProgress,
    /// The visit took place.
    Completed,
    /// Called off; kept for the record.
    Cancelled,
}

impl AppointmentStatus {
    /// The value stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "scheduled",
            AppointmentStatus::InProgress => "in_progress",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored form; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "scheduled" => Some(AppointmentStatus::Scheduled),
            "in_progress" => Some(AppointmentStatus::InProgress),
            "completed" => Some(AppointmentStatus::Completed),
            "cancelled" => Some(AppointmentStatus::Cancelled),
            _ => None,
        }
    }

    /// Human label for the portal.
    pub fn label(self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "Scheduled",
            AppointmentStatus::InProgress => "In progress",
            AppointmentStatus::Completed => "Completed",
            AppointmentStatus::Cancelled => "Cancelled",
        }
    }
}

/// The signed-in user, as `GET /api/v1/me` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// The user's id.
    pub id: Uuid,
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role in the workspace.
    pub role: Role,
    /// The clinic this user belongs to.
    pub workspace_id: Uuid,
}

/// A clinician or admin as other users of the workspace see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    /// The user's id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Sign-in email.
    pub email: String,
    /// Role in the workspace.
    pub role: Role,
}

/// A patient record (PHI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    /// The patient's id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Email for join links, if known.
    pub email: Option<String>,
    /// Mobile number for SMS join links, if known.
    pub phone: Option<String>,
    /// Date of birth, if known.
    pub date_of_birth: Option<NaiveDate>,
}

/// An appointment, with times both in UTC and in the workspace's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    /// The appointment's id.
    pub id: Uuid,
    /// The clinician who sees the patient.
    pub clinician_id: Uuid,
    /// The clinician's display name.
    pub clinician_name: String,
    /// The patient.
    pub patient_id: Uuid,
    /// The patient's name.
    pub patient_name: String,
    /// Start, UTC.
    pub starts_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration_minutes: i32,
    /// Video or in person.
    pub modality: Modality,
    /// Life-cycle state.
    pub status: AppointmentStatus,
    /// Reason for the visit, as the clinic wrote it.
    pub reason: String,
    /// The workspace's IANA time zone the `local_*` fields are in.
    pub time_zone: String,
    /// Start date in the workspace's time zone (`YYYY-MM-DD`).
    pub local_date: NaiveDate,
    /// Start time in the workspace's time zone (`HH:MM`).
    pub local_start: String,
    /// End time in the workspace's time zone (`HH:MM`).
    pub local_end: String,
}

/// One day of a schedule, in the workspace's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaySchedule {
    /// The day shown.
    pub date: NaiveDate,
    /// The workspace's IANA time zone.
    pub time_zone: String,
    /// Appointments that start that day, earliest first.
    pub appointments: Vec<Appointment>,
}

/// A field that failed validation, and why (in words a user can act on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name in the request (`starts_at`, `patient_id`, ...).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The portal's view of who is signed in and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSession {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The clinic's display name.
    pub workspace_name: String,
    /// The clinic's IANA time zone.
    pub time_zone: String,
    /// Today's date in that time zone.
    pub today: NaiveDate,
}

/// The appointment form as the portal submits it: raw strings, validated by the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppointmentForm {
    /// Existing patient's id, or `new` to create `new_patient_*` (empty: none chosen).
    #[serde(default)]
    pub patient_id: String,
    /// Name of a patient to create with the appointment.
    #[serde(default)]
    pub new_patient_name: String,
    /// Email of that new patient (optional).
    #[serde(default)]
    pub new_patient_email: String,
    /// Phone of that new patient (optional).
    #[serde(default)]
    pub new_patient_phone: String,
    /// Clinician's id; empty means the signed-in clinician.
    #[serde(default)]
    pub clinician_id: String,
    /// Local date, `YYYY-MM-DD`, in the workspace's time zone.
    #[serde(default)]
    pub date: String,
    /// Local time, `HH:MM`, in the workspace's time zone.
    #[serde(default)]
    pub time: String,
    /// Length in minutes.
    #[serde(default)]
    pub duration_minutes: String,
    /// `telehealth` or `in_person`.
    #[serde(default)]
    pub modality: String,
    /// Reason for the visit.
    #[serde(default)]
    pub reason: String,
    /// Status (edit only); empty keeps the current one.
    #[serde(default)]
    pub status: String,
}

/// The patient form as the portal submits it: raw strings, validated by the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientForm {
    /// Full name.
    #[serde(default)]
    pub name: String,
    /// Email (optional).
    #[serde(default)]
    pub email: String,
    /// Phone (optional).
    #[serde(default)]
    pub phone: String,
    /// Date of birth, `YYYY-MM-DD` (optional).
    #[serde(default)]
    pub date_of_birth: String,
}
