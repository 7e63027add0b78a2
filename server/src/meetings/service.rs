//! Meetings as clinicians run them: create (one per telehealth appointment), read,
//! change, end; who may do which. Admission lives in [`super::admission`], the
//! patient's side of links in [`super::visit`].

use app::meetings::{Meeting, MeetingStatus, MeetingWithToken, ParticipantRole, ParticipantState};
use app::types::{AppointmentStatus, CurrentUser, Modality, Role};
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::model::{can_move, media_rights};
use super::store::{self, MeetingRow, NewParticipant, ParticipantRow};
use super::{admission, links};
use crate::appointments::store as appointments;
use crate::audit;
use crate::db::WorkspaceTx;
use crate::error::{Error, Result};
use crate::patients::store as patients;
use crate::state::Services;
use crate::waiting_room::MeetingEvent;

/// A meeting with its participants, loaded for a staff caller who may see it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The meeting.
    pub meeting: MeetingRow,
    /// Its participants.
    pub participants: Vec<ParticipantRow>,
}

impl Loaded {
    /// The caller's own participant row, if they are in the meeting.
    pub fn staff_participant(&self, user_id: Uuid) -> Option<&ParticipantRow> {
        self.participants
            .iter()
            .find(|p| p.user_id == Some(user_id))
    }

    /// The wire form.
    pub fn view(&self, livekit_url: &str) -> Meeting {
        Meeting {
            id: self.meeting.meeting_id,
            appointment_id: self.meeting.appointment_id,
            status: self.meeting.status(),
            room_name: self.meeting.room_name.clone(),
            livekit_url: livekit_url.to_owned(),
            starts_at: self.meeting.scheduled_start,
            duration_minutes: self.meeting.duration_minutes,
            participants: self.participants.iter().map(ParticipantRow::view).collect(),
        }
    }
}

/// Loads a meeting for `user`: another workspace's is 404 (RLS shows nothing); in the
/// same workspace only its clinicians and admins may see it (403 otherwise).
pub async fn load_for_staff(tx: &mut WorkspaceTx, user: &CurrentUser, id: Uuid) -> Result<Loaded> {
    let meeting = store::find(tx, id).await?.ok_or(Error::NotFound)?;
    let participants = store::participants(tx, id).await?;
    let loaded = Loaded {
        meeting,
        participants,
    };
    if user.role != Role::Admin && loaded.staff_participant(user.id).is_none() {
        return Err(Error::Forbidden);
    }
    Ok(loaded)
}

/// Only the meeting's clinicians act on it (admins may look, not run a visit).
pub fn require_clinician<'a>(loaded: &'a Loaded, user: &CurrentUser) -> Result<&'a ParticipantRow> {
    loaded.staff_participant(user.id).ok_or(Error::Forbidden)
}

/// Refuses changes to an ended meeting (409).
pub fn require_live(meeting: &MeetingRow) -> Result<()> {
    if meeting.status() == MeetingStatus::Ended {
        return Err(Error::State("This visit has ended."));
    }
    Ok(())
}

/// Moves a meeting's status if the lifecycle allows it; returns whether it moved.
pub async fn advance(
    services: &Services,
    tx: &mut WorkspaceTx,
    meeting: &MeetingRow,
    to: MeetingStatus,
) -> Result<bool> {
    let from = meeting.status();
    if from == to || !can_move(from, to) {
        return Ok(false);
    }
    store::set_status(tx, meeting.meeting_id, to).await?;
    let detail =
        json!({ "meeting_id": meeting.meeting_id, "from": from.as_str(), "to": to.as_str() });
    audit::record_detail(
        tx,
        meeting.workspace_id,
        None,
        "meeting.status_changed",
        "meeting",
        Some(meeting.meeting_id),
        detail,
    )
    .await?;
    services
        .waiting_room
        .set_status(meeting.meeting_id, to.as_str())
        .await?;
    Ok(true)
}

/// Audits `action` on a participant of a meeting; `extra` fields join the detail's
/// `meeting_id` and `participant_id` (ids and codes only).
pub async fn audit_participant(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    actor: Option<Uuid>,
    action: &str,
    (meeting_id, participant_id): (Uuid, Uuid),
    extra: serde_json::Value,
) -> Result<()> {
    let mut detail = json!({ "meeting_id": meeting_id, "participant_id": participant_id });
    if let (Some(detail), serde_json::Value::Object(extra)) = (detail.as_object_mut(), extra) {
        detail.extend(extra);
    }
    audit::record_detail(
        tx,
        workspace_id,
        actor,
        action,
        "meeting_participant",
        Some(participant_id),
        detail,
    )
    .await?;
    Ok(())
}

/// Publishes an event, logging (not failing) when the store is unreachable: the
/// record in PostgreSQL is already committed, and clients resynchronise on reconnect.
pub async fn announce(services: &Services, meeting_id: Uuid, event: MeetingEvent) {
    if let Err(error) = services.waiting_room.publish(meeting_id, &event).await {
        tracing::warn!(meeting_id = %meeting_id, error = format!("{error:#}"), "meeting event not published");
    }
}

/// Creates the meeting of a telehealth appointment, or opens the existing one. Only the
/// appointment's clinician may. Returns the meeting with their token, and whether it
/// was created now.
pub async fn create(
    services: &Services,
    user: &CurrentUser,
    appointment_id: Uuid,
    duration_minutes: Option<i32>,
    source: Option<std::net::IpAddr>,
) -> Result<(MeetingWithToken, bool)> {
    if let Some(minutes) = duration_minutes
        && !(5..=480).contains(&minutes)
    {
        return Err(Error::field("duration_minutes", "Use 5 to 480 minutes."));
    }
    let workspace_id = user.workspace_id;
    let mut tx = services.db.begin_for(workspace_id).await?;
    let appointment = appointments::find(&mut tx, appointment_id)
        .await?
        .ok_or(Error::NotFound)?;
    if appointment.clinician_id != user.id {
        return Err(Error::Forbidden);
    }
    if Modality::parse(&appointment.modality) != Some(Modality::Telehealth) {
        return Err(Error::field(
            "appointment_id",
            "Only telehealth appointments have a video visit.",
        ));
    }
    let status = AppointmentStatus::parse(&appointment.status);
    let existing = store::find_by_appointment(&mut tx, appointment_id).await?;
    if existing.is_none()
        && matches!(
            status,
            Some(AppointmentStatus::Cancelled | AppointmentStatus::Completed)
        )
    {
        return Err(Error::State("This appointment is cancelled or completed."));
    }
    let duration = duration_minutes.unwrap_or(appointment.duration_minutes);
    let mut created = false;
    let meeting_id = match existing {
        Some(meeting) => meeting.meeting_id,
        None => match store::insert(
            &mut tx,
            workspace_id,
            appointment_id,
            user.id,
            duration,
            appointment.starts_at,
        )
        .await?
        {
            Some(id) => {
                let clinician = NewParticipant {
                    role: ParticipantRole::Clinician,
                    user_id: Some(user.id),
                    patient_id: None,
                    name: &user.name,
                    email: None,
                    phone: None,
                };
                store::add_participant(&mut tx, workspace_id, id, &clinician).await?;
                let patient = patients::find(&mut tx, appointment.patient_id)
                    .await?
                    .ok_or(Error::NotFound)?;
                let patient_row = NewParticipant {
                    role: ParticipantRole::Patient,
                    user_id: None,
                    patient_id: Some(patient.id),
                    name: &patient.name,
                    email: None,
                    phone: None,
                };
                store::add_participant(&mut tx, workspace_id, id, &patient_row).await?;
                let detail = json!({ "meeting_id": id, "appointment_id": appointment_id });
                audit::record_detail(
                    &mut tx,
                    workspace_id,
                    Some(user.id),
                    "meeting.created",
                    "meeting",
                    Some(id),
                    detail,
                )
                .await?;
                created = true;
                id
            }
            // Another request created it a moment ago.
            None => {
                store::find_by_appointment(&mut tx, appointment_id)
                    .await?
                    .ok_or(Error::NotFound)?
                    .meeting_id
            }
        },
    };
    let loaded = load_for_staff(&mut tx, user, meeting_id).await?;
    let (token, identity) = staff_token(services, &mut tx, &loaded, user.id).await?;
    admission::note_source(&mut tx, identity, source).await?;
    tx.commit().await?;
    if created {
        services
            .waiting_room
            .set_status(meeting_id, MeetingStatus::Waiting.as_str())
            .await?;
        tracing::info!(meeting_id = %meeting_id, "meeting created");
    }
    Ok((
        MeetingWithToken {
            meeting: loaded.view(services.media.client_url()),
            token,
            identity,
        },
        created,
    ))
}

/// A clinician's token for their meeting, audited.
pub async fn staff_token(
    services: &Services,
    tx: &mut WorkspaceTx,
    loaded: &Loaded,
    user_id: Uuid,
) -> Result<(String, Uuid)> {
    let me = loaded.staff_participant(user_id).ok_or(Error::Forbidden)?;
    let rights = media_rights(me.role(), me.state(), loaded.meeting.status(), false)
        .ok_or(Error::State("This visit has ended."))?;
    let token = services.media.participant_token(
        &loaded.meeting.room_name,
        me.participant_id,
        &me.display_name,
        me.role(),
        loaded.meeting.workspace_id,
        rights,
    )?;
    audit_participant(
        tx,
        loaded.meeting.workspace_id,
        Some(user_id),
        "meeting.token_issued",
        (loaded.meeting.meeting_id, me.participant_id),
        json!({ "role": "clinician" }),
    )
    .await?;
    Ok((token, me.participant_id))
}

/// A meeting with its participants.
pub async fn get(services: &Services, user: &CurrentUser, id: Uuid) -> Result<Meeting> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let loaded = load_for_staff(&mut tx, user, id).await?;
    let ids: Vec<Uuid> = loaded
        .participants
        .iter()
        .map(|p| p.participant_id)
        .collect();
    audit::record_read(
        &mut tx,
        user.workspace_id,
        user.id,
        "meeting.viewed",
        "meeting_participant",
        &ids,
    )
    .await?;
    tx.commit().await?;
    Ok(loaded.view(services.media.client_url()))
}

/// Ends a meeting: everyone is disconnected (`DeleteRoom`), links stop working, the
/// appointment is completed. Ending an ended meeting changes nothing.
pub async fn end(
    services: &Services,
    user: Option<&CurrentUser>,
    workspace_id: Uuid,
    id: Uuid,
) -> Result<()> {
    let mut tx = services.db.begin_for(workspace_id).await?;
    if let Some(user) = user {
        let loaded = load_for_staff(&mut tx, user, id).await?;
        require_clinician(&loaded, user)?;
    }
    let meeting = store::lock(&mut tx, id).await?.ok_or(Error::NotFound)?;
    if meeting.status() == MeetingStatus::Ended {
        return Ok(());
    }
    advance(services, &mut tx, &meeting, MeetingStatus::Ended).await?;
    sqlx::query(
        "update meeting_participant set state = 'left', left_at = now()
         where meeting_id = $1 and state in ('waiting', 'admitted', 'in_call')",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    links::revoke_all(&mut tx, id).await?;
    super::notes::file(&mut tx, workspace_id, id).await?;
    sqlx::query("update appointment set status = 'completed' where appointment_id = $1 and status <> 'cancelled'")
        .bind(meeting.appointment_id)
        .execute(&mut *tx)
        .await?;
    let detail = json!({ "meeting_id": id });
    audit::record_detail(
        &mut tx,
        workspace_id,
        user.map(|u| u.id),
        "meeting.ended",
        "meeting",
        Some(id),
        detail,
    )
    .await?;
    tx.commit().await?;
    if let Err(error) = services.media.end_room(&meeting.room_name).await {
        // The record says ended and tokens are refused; the room empties itself.
        tracing::warn!(meeting_id = %id, error = format!("{error:#}"), "ending the room");
    }
    announce(
        services,
        id,
        MeetingEvent::Status {
            status: MeetingStatus::Ended.as_str().into(),
        },
    )
    .await;
    services.waiting_room.clear(id).await?;
    tracing::info!(meeting_id = %id, "meeting ended");
    Ok(())
}

/// The link of a participant expires an hour after the meeting's planned end.
pub fn link_expiry(meeting: &MeetingRow) -> chrono::DateTime<chrono::Utc> {
    meeting.ends_at().max(chrono::Utc::now()) + Duration::hours(1)
}

/// Whether a participant may be sent a link (guests only; not rejected or gone).
pub fn invitable(participant: &ParticipantRow) -> Result<()> {
    if participant.role().is_staff() {
        return Err(Error::field(
            "participant_id",
            "Staff join from the portal, not from a link.",
        ));
    }
    if participant.state() == ParticipantState::Rejected {
        return Err(Error::State(
            "This participant was turned away from the visit.",
        ));
    }
    Ok(())
}

pub use admission::{admit, reject};
