//! The visit's chat: messages between the meeting's participants, stored with the
//! meeting in the order they arrive, announced to every node by id (never by text), and
//! readable afterwards on the meeting's record. The text is PHI: it is never logged.

use app::meetings::{ChatMessage, MeetingStatus, ParticipantRole, ParticipantState};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::service::{announce, load_for_staff};
use super::store;
use super::visit::Caller;
use crate::db::WorkspaceTx;
use crate::error::{Error, Result};
use crate::state::Services;
use crate::waiting_room::MeetingEvent;

/// Longest message, in characters (the column's check says the same).
pub const MAX_MESSAGE_CHARS: usize = 2000;

#[derive(sqlx::FromRow)]
struct MessageRow {
    meeting_message_id: i64,
    participant_id: Uuid,
    display_name: String,
    role: String,
    body: String,
    sent_at: DateTime<Utc>,
}

impl From<MessageRow> for ChatMessage {
    fn from(row: MessageRow) -> Self {
        ChatMessage {
            id: row.meeting_message_id,
            participant_id: row.participant_id,
            sender_name: row.display_name,
            sender_role: ParticipantRole::parse(&row.role).unwrap_or(ParticipantRole::Patient),
            body: row.body,
            sent_at: row.sent_at,
        }
    }
}

/// Who may read and write, resolved for `meeting_id`: (workspace, the caller's
/// participant id if they are one, their transaction). Staff who are not in the
/// meeting (admins) may read, not write; another workspace's meeting is 404.
async fn open(
    services: &Services,
    caller: &Caller,
    meeting_id: Uuid,
) -> Result<(WorkspaceTx, Option<Uuid>)> {
    match caller {
        Caller::Staff(principal) => {
            let mut tx = services.db.begin_for(principal.workspace_id).await?;
            let user = crate::users::store::find(&mut tx, principal.user_id)
                .await?
                .ok_or(Error::Unauthorized)?;
            let loaded = load_for_staff(&mut tx, &user, meeting_id).await?;
            let me = loaded.staff_participant(user.id).map(|p| p.participant_id);
            Ok((tx, me))
        }
        Caller::Visit(bound) if bound.meeting_id == meeting_id => {
            let mut tx = services.db.begin_for(bound.workspace_id).await?;
            let me = store::participant(&mut tx, meeting_id, bound.participant_id)
                .await?
                .ok_or(Error::NotFound)?;
            if me.state() == ParticipantState::Rejected {
                return Err(Error::Forbidden);
            }
            Ok((tx, Some(bound.participant_id)))
        }
        Caller::Visit(_) => Err(Error::NotFound),
    }
}

/// The meeting's messages after `after` (all when `None`), oldest first.
pub async fn list(
    services: &Services,
    caller: &Caller,
    meeting_id: Uuid,
    after: Option<i64>,
) -> Result<Vec<ChatMessage>> {
    let (mut tx, _) = open(services, caller, meeting_id).await?;
    let rows: Vec<MessageRow> = sqlx::query_as(
        "select m.meeting_message_id, m.participant_id, p.display_name, p.role, m.body, m.sent_at
         from meeting_message m join meeting_participant p on p.participant_id = m.participant_id
         where m.meeting_id = $1 and m.meeting_message_id > $2
         order by m.meeting_message_id limit 500",
    )
    .bind(meeting_id)
    .bind(after.unwrap_or(0))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(ChatMessage::from).collect())
}

/// Stores a message from the caller (a participant of a live meeting) and announces it.
pub async fn post(
    services: &Services,
    caller: &Caller,
    meeting_id: Uuid,
    body: &str,
) -> Result<ChatMessage> {
    let body = body.trim();
    if body.is_empty() {
        return Err(Error::field("body", "Write a message first."));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::field(
            "body",
            "Keep a message under 2000 characters.",
        ));
    }
    let (mut tx, me) = open(services, caller, meeting_id).await?;
    let me = me.ok_or(Error::Forbidden)?;
    let meeting = store::find(&mut tx, meeting_id)
        .await?
        .ok_or(Error::NotFound)?;
    if meeting.status() == MeetingStatus::Ended {
        return Err(Error::State("This visit has ended; its chat is read-only."));
    }
    let row: MessageRow = sqlx::query_as(
        "with stored as (
             insert into meeting_message (workspace_id, meeting_id, participant_id, body)
             values ($1, $2, $3, $4) returning meeting_message_id, participant_id, body, sent_at
         )
         select s.meeting_message_id, s.participant_id, p.display_name, p.role, s.body, s.sent_at
         from stored s join meeting_participant p on p.participant_id = s.participant_id",
    )
    .bind(meeting.workspace_id)
    .bind(meeting_id)
    .bind(me)
    .bind(body)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let message = ChatMessage::from(row);
    announce(
        services,
        meeting_id,
        MeetingEvent::Message { id: message.id },
    )
    .await;
    Ok(message)
}

/// The newest message's id, for the patient's heartbeat.
pub async fn last_id(tx: &mut WorkspaceTx, meeting_id: Uuid) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("select max(meeting_message_id) from meeting_message where meeting_id = $1")
        .bind(meeting_id)
        .fetch_one(&mut **tx)
        .await
}
