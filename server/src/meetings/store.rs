//! SQL for meetings and their participants, inside workspace transactions.

use app::meetings::{
    DeviceCheckReport, DeviceStatus, MeetingStatus, Participant, ParticipantRole, ParticipantState,
    VideoRoute,
};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::db::WorkspaceTx;

/// A meeting row.
#[derive(Debug, Clone, FromRow)]
pub struct MeetingRow {
    /// Id.
    pub meeting_id: Uuid,
    /// Workspace.
    pub workspace_id: Uuid,
    /// Appointment.
    pub appointment_id: Uuid,
    /// The appointment's clinician.
    pub clinician_id: Uuid,
    /// LiveKit room.
    pub room_name: String,
    /// Stored status.
    pub status: String,
    /// Planned length.
    pub duration_minutes: i32,
    /// Scheduled start.
    pub scheduled_start: DateTime<Utc>,
}

impl MeetingRow {
    /// The lifecycle status (the column's check admits only known values).
    pub fn status(&self) -> MeetingStatus {
        MeetingStatus::parse(&self.status).unwrap_or(MeetingStatus::Ended)
    }

    /// When it is planned to end.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.scheduled_start + chrono::Duration::minutes(i64::from(self.duration_minutes))
    }
}

/// A participant row.
#[derive(Debug, Clone, FromRow)]
pub struct ParticipantRow {
    /// Id (LiveKit identity).
    pub participant_id: Uuid,
    /// Role.
    pub role: String,
    /// Staff user, for clinicians.
    pub user_id: Option<Uuid>,
    /// Patient record, for the patient.
    pub patient_id: Option<Uuid>,
    /// Display name.
    pub display_name: String,
    /// Contact email (guests) or the patient's.
    pub email: Option<String>,
    /// Contact phone (guests) or the patient's.
    pub phone: Option<String>,
    /// State.
    pub state: String,
    /// RSVP.
    pub rsvp: Option<String>,
    /// Reason given on rejection.
    pub rejection_reason: Option<String>,
    /// Times.
    pub waiting_since: Option<DateTime<Utc>>,
    /// Admitted.
    pub admitted_at: Option<DateTime<Utc>>,
    /// Joined.
    pub joined_at: Option<DateTime<Utc>>,
    /// Left.
    pub left_at: Option<DateTime<Utc>>,
    /// Rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Address of the last token request, as text.
    pub last_source: Option<String>,
    /// Device check: the camera's status.
    pub check_camera: Option<String>,
    /// Device check: the microphone's status.
    pub check_microphone: Option<String>,
    /// Device check: the round trip to the server, ms.
    pub check_round_trip_ms: Option<i32>,
    /// Device check: download throughput, kbit/s.
    pub check_down_kbps: Option<i32>,
    /// Device check: upload throughput, kbit/s.
    pub check_up_kbps: Option<i32>,
    /// Device check: how video reaches the media server.
    pub check_route: Option<String>,
    /// The media server's id (`PA_...`) of the participant's current session.
    pub session_sid: Option<String>,
}

impl ParticipantRow {
    /// The role (checked by the column).
    pub fn role(&self) -> ParticipantRole {
        ParticipantRole::parse(&self.role).unwrap_or(ParticipantRole::Patient)
    }

    /// The state (checked by the column).
    pub fn state(&self) -> ParticipantState {
        ParticipantState::parse(&self.state).unwrap_or(ParticipantState::Invited)
    }

    /// The state that decides the participant's media rights: a guest who was admitted
    /// and dropped out (a reload, a lost network) comes back to the call, not to the
    /// waiting room, so `left` after an admission counts as `admitted`.
    pub fn standing(&self) -> ParticipantState {
        match self.state() {
            ParticipantState::Left if self.admitted_at.is_some() => ParticipantState::Admitted,
            state => state,
        }
    }

    /// The wire form.
    pub fn view(&self) -> Participant {
        Participant {
            id: self.participant_id,
            role: self.role(),
            name: self.display_name.clone(),
            state: self.state(),
            rsvp: self.rsvp.clone(),
            waiting_since: self.waiting_since,
            admitted_at: self.admitted_at,
            joined_at: self.joined_at,
            left_at: self.left_at,
            rejected_at: self.rejected_at,
            rejection_reason: self.rejection_reason.clone(),
            device_check: self.device_check(),
        }
    }

    /// The stored device check, if the participant ran one.
    pub fn device_check(&self) -> Option<DeviceCheckReport> {
        Some(DeviceCheckReport {
            camera: DeviceStatus::parse(self.check_camera.as_deref()?)?,
            microphone: DeviceStatus::parse(self.check_microphone.as_deref()?)?,
            round_trip_ms: self
                .check_round_trip_ms
                .and_then(|ms| u32::try_from(ms).ok()),
            down_kbps: self.check_down_kbps.and_then(|k| u32::try_from(k).ok()),
            up_kbps: self.check_up_kbps.and_then(|k| u32::try_from(k).ok()),
            route: self.check_route.as_deref().and_then(VideoRoute::parse),
        })
    }
}

const MEETING: &str = "select meeting_id, workspace_id, appointment_id, clinician_id, room_name,
    status, duration_minutes, scheduled_start from meeting";

const PARTICIPANT: &str =
    "select p.participant_id, p.role, p.user_id, p.patient_id, p.display_name,
    coalesce(p.email, pt.email) as email, coalesce(p.phone, pt.phone) as phone, p.state, p.rsvp,
    p.rejection_reason, p.waiting_since, p.admitted_at, p.joined_at, p.left_at, p.rejected_at,
    host(p.last_source) as last_source, p.check_camera, p.check_microphone, p.check_round_trip_ms,
    p.check_down_kbps, p.check_up_kbps, p.check_route, p.session_sid
    from meeting_participant p left join patient pt on pt.patient_id = p.patient_id";

/// A meeting with one staff participant's row.
#[derive(Debug, Clone, FromRow)]
pub struct MeetingAndStaff {
    /// The meeting.
    #[sqlx(flatten)]
    pub meeting: MeetingRow,
    /// The staff user's participant row.
    #[sqlx(flatten)]
    pub me: ParticipantRow,
}

/// The token path in one statement: the meeting, the participant row of staff user
/// `user_id` in it, and, when the meeting is live, the `meeting.token_issued` audit row
/// (a data-modifying CTE, so reading and auditing cost one round trip). `None` when the
/// meeting or the participant is missing (nothing is audited then).
pub async fn with_staff_token_audited(
    tx: &mut WorkspaceTx,
    meeting_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<MeetingAndStaff>> {
    sqlx::query_as(
        "with me as (
             select m.meeting_id, m.workspace_id, m.appointment_id, m.clinician_id, m.room_name,
                    m.status, m.duration_minutes, m.scheduled_start,
                    p.participant_id, p.role, p.user_id, p.patient_id, p.display_name, p.email,
                    p.phone, p.state, p.rsvp, p.rejection_reason, p.waiting_since, p.admitted_at,
                    p.joined_at, p.left_at, p.rejected_at, host(p.last_source) as last_source,
                    p.check_camera, p.check_microphone, p.check_round_trip_ms,
                    p.check_down_kbps, p.check_up_kbps, p.check_route, p.session_sid
             from meeting m join meeting_participant p on p.meeting_id = m.meeting_id
             where m.meeting_id = $1 and p.user_id = $2
         ), audited as (
             insert into audit_event (workspace_id, actor_user_id, action, subject_type, subject_id, detail)
             select workspace_id, $2, 'meeting.token_issued', 'meeting_participant', participant_id,
                    jsonb_build_object('meeting_id', meeting_id, 'participant_id', participant_id,
                                       'role', 'clinician')
             from me where status <> 'ended'
         )
         select * from me",
    )
    .bind(meeting_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await
}

/// One meeting by id.
pub async fn find(tx: &mut WorkspaceTx, id: Uuid) -> sqlx::Result<Option<MeetingRow>> {
    sqlx::query_as(&format!("{MEETING} where meeting_id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// The meeting of an appointment.
pub async fn find_by_appointment(
    tx: &mut WorkspaceTx,
    appointment_id: Uuid,
) -> sqlx::Result<Option<MeetingRow>> {
    sqlx::query_as(&format!("{MEETING} where appointment_id = $1"))
        .bind(appointment_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Locks a meeting row for a status change (serialises concurrent transitions).
pub async fn lock(tx: &mut WorkspaceTx, id: Uuid) -> sqlx::Result<Option<MeetingRow>> {
    sqlx::query_as(&format!("{MEETING} where meeting_id = $1 for update"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// Inserts a meeting; `None` when the appointment already has one (a concurrent create).
pub async fn insert(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    appointment_id: Uuid,
    clinician_id: Uuid,
    duration_minutes: i32,
    scheduled_start: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "insert into meeting (workspace_id, appointment_id, clinician_id, room_name, duration_minutes, scheduled_start)
         values ($1, $2, $3, 'appointment-' || $2::text, $4, $5)
         on conflict (appointment_id) do nothing returning meeting_id",
    )
    .bind(workspace_id)
    .bind(appointment_id)
    .bind(clinician_id)
    .bind(duration_minutes)
    .bind(scheduled_start)
    .fetch_optional(&mut **tx)
    .await
}

/// New participant fields.
#[derive(Debug, Clone)]
pub struct NewParticipant<'a> {
    /// Role.
    pub role: ParticipantRole,
    /// Staff user (clinicians).
    pub user_id: Option<Uuid>,
    /// Patient record (the patient).
    pub patient_id: Option<Uuid>,
    /// Display name.
    pub name: &'a str,
    /// Contact email (guests).
    pub email: Option<&'a str>,
    /// Contact phone (guests).
    pub phone: Option<&'a str>,
}

/// Adds a participant.
pub async fn add_participant(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    meeting_id: Uuid,
    p: &NewParticipant<'_>,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into meeting_participant (workspace_id, meeting_id, role, user_id, patient_id, display_name, email, phone)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning participant_id",
    )
    .bind(workspace_id)
    .bind(meeting_id)
    .bind(p.role.as_str())
    .bind(p.user_id)
    .bind(p.patient_id)
    .bind(p.name)
    .bind(p.email)
    .bind(p.phone)
    .fetch_one(&mut **tx)
    .await
}

/// The participants of a meeting, staff first, then by creation.
pub async fn participants(
    tx: &mut WorkspaceTx,
    meeting_id: Uuid,
) -> sqlx::Result<Vec<ParticipantRow>> {
    sqlx::query_as(&format!(
        "{PARTICIPANT} where p.meeting_id = $1 order by (p.role <> 'clinician'), p.created_at, p.participant_id"
    ))
    .bind(meeting_id)
    .fetch_all(&mut **tx)
    .await
}

/// One participant of a meeting.
pub async fn participant(
    tx: &mut WorkspaceTx,
    meeting_id: Uuid,
    participant_id: Uuid,
) -> sqlx::Result<Option<ParticipantRow>> {
    sqlx::query_as(&format!(
        "{PARTICIPANT} where p.meeting_id = $1 and p.participant_id = $2"
    ))
    .bind(meeting_id)
    .bind(participant_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Sets a participant's state and stamps the matching time.
pub async fn set_state(
    tx: &mut WorkspaceTx,
    participant_id: Uuid,
    state: ParticipantState,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    let stamp = match state {
        ParticipantState::Waiting => "waiting_since = coalesce(waiting_since, now())",
        ParticipantState::Admitted => "admitted_at = now()",
        ParticipantState::InCall => "joined_at = coalesce(joined_at, now())",
        ParticipantState::Left => "left_at = now()",
        ParticipantState::Rejected => "rejected_at = now()",
        ParticipantState::Invited => "created_at = created_at",
    };
    sqlx::query(&format!(
        "update meeting_participant set state = $2, {stamp},
             rejection_reason = case when $2 = 'rejected' then $3::text else rejection_reason end
         where participant_id = $1"
    ))
    .bind(participant_id)
    .bind(state.as_str())
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records `sid` as the participant's current media session.
pub async fn set_session(
    tx: &mut WorkspaceTx,
    participant_id: Uuid,
    sid: &str,
) -> sqlx::Result<()> {
    sqlx::query("update meeting_participant set session_sid = $2 where participant_id = $1")
        .bind(participant_id)
        .bind(sid)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores what a participant's device check found (the latest run wins).
pub async fn set_device_check(
    tx: &mut WorkspaceTx,
    participant_id: Uuid,
    report: &DeviceCheckReport,
) -> sqlx::Result<()> {
    sqlx::query(
        "update meeting_participant set check_camera = $2, check_microphone = $3,
             check_round_trip_ms = $4, check_down_kbps = $5, check_up_kbps = $6,
             check_route = $7, checked_at = now()
         where participant_id = $1",
    )
    .bind(participant_id)
    .bind(report.camera.as_str())
    .bind(report.microphone.as_str())
    .bind(report.round_trip_ms.map(|ms| ms as i32))
    .bind(report.down_kbps.map(|k| k as i32))
    .bind(report.up_kbps.map(|k| k as i32))
    .bind(report.route.map(VideoRoute::as_str))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a meeting's status (the caller checked the transition).
pub async fn set_status(
    tx: &mut WorkspaceTx,
    meeting_id: Uuid,
    status: MeetingStatus,
) -> sqlx::Result<()> {
    let ended = if status == MeetingStatus::Ended {
        ", ended_at = now()"
    } else {
        ""
    };
    sqlx::query(&format!(
        "update meeting set status = $2{ended} where meeting_id = $1"
    ))
    .bind(meeting_id)
    .bind(status.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
