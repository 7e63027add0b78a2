//! The visit as participants reach it: invitations with one-tap links, what a link is
//! for, redeeming it, RSVPs, media tokens by the grant matrix, consent receipts, the
//! recorder's token, and the waiting page's heartbeat.

use std::net::IpAddr;

use app::meetings::{
    DeviceCheckReport, LinkInfo, MAX_ROUND_TRIP_MS, MAX_THROUGHPUT_KBPS, MediaToken,
    ParticipantState, VisitStatus,
};
use app::types::CurrentUser;

use crate::auth::Principal;
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::admission::{self, note_source};
use super::links::{self, Bound};
use super::model::media_rights;
use super::service::{
    audit_participant, invitable, link_expiry, load_for_staff, require_clinician, require_live,
};
use super::store;
use crate::error::{Error, Result};
use crate::notify::{Message, Recipient};
use crate::state::Services;
use crate::workspaces;

/// How a visit's time is written for patients ("Tuesday 1 December at 9:30 (EST)").
const SPOKEN_TIME: &str = "%A %-d %B at %-H:%M (%Z)";

/// How a visit session lives: long enough for a visit that runs late.
pub const VISIT_SESSION_HOURS: i64 = 12;

/// Who calls a visit endpoint: signed-in staff, or a browser holding a visit session.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Portal or API user (their login; the user row is read in the endpoint's own
    /// transaction, which saves a transaction on the token path).
    Staff(Principal),
    /// A redeemed link.
    Visit(Bound),
}

/// The caller of a request: staff by bearer token or portal cookie, else a browser's
/// visit session cookie. A present but invalid bearer token is refused, never ignored.
pub async fn caller(services: &Services, headers: &axum::http::HeaderMap) -> Result<Caller> {
    match crate::auth::service::principal(services, headers).await {
        Ok(principal) => Ok(Caller::Staff(principal)),
        Err(Error::Unauthorized) if !headers.contains_key(axum::http::header::AUTHORIZATION) => {
            links::visit_session(services, headers)
                .await?
                .map(Caller::Visit)
                .ok_or(Error::Unauthorized)
        }
        Err(error) => Err(error),
    }
}

/// The signed-in user behind `principal`, read in `tx` (their workspace's).
pub(super) async fn staff_user(
    tx: &mut crate::db::WorkspaceTx,
    principal: &Principal,
) -> Result<CurrentUser> {
    crate::users::store::find(tx, principal.user_id)
        .await?
        .ok_or(Error::Unauthorized)
}

/// Invitation channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Email.
    Email,
    /// SMS (only with the patient's agreement to texts).
    Sms,
}

/// Sends a participant their one-tap link. SMS needs `sms_consent` (the clinician
/// confirms the patient agreed to texts). The message carries the clinic, the time and
/// the link; never a reason for the visit.
pub async fn invite(
    services: &Services,
    user: &CurrentUser,
    meeting_id: Uuid,
    participant_id: Uuid,
    channel: Channel,
    sms_consent: bool,
) -> Result<()> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let loaded = load_for_staff(&mut tx, user, meeting_id).await?;
    require_clinician(&loaded, user)?;
    require_live(&loaded.meeting)?;
    let participant = loaded
        .participants
        .iter()
        .find(|p| p.participant_id == participant_id)
        .ok_or(Error::NotFound)?;
    invitable(participant)?;
    let recipient = match channel {
        Channel::Email => Recipient::Email(participant.email.clone().ok_or_else(|| {
            Error::field(
                "channel",
                "There is no email address on file for this participant.",
            )
        })?),
        Channel::Sms => {
            if !sms_consent {
                return Err(Error::field(
                    "sms_consent",
                    "Confirm that the patient agreed to receive texts.",
                ));
            }
            let phone = participant.phone.as_deref().ok_or_else(|| {
                Error::field(
                    "channel",
                    "There is no mobile number on file for this participant.",
                )
            })?;
            Recipient::Sms(crate::notify::sms::e164(phone).ok_or_else(|| {
                Error::field(
                    "channel",
                    "The mobile number on file is not a valid phone number.",
                )
            })?)
        }
    };
    let token = links::create(
        &mut tx,
        user.workspace_id,
        meeting_id,
        participant_id,
        link_expiry(&loaded.meeting),
    )
    .await?;
    let workspace = workspaces::current(&mut tx).await?;
    audit_participant(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "meeting.invitation_sent",
        (meeting_id, participant_id),
        json!({ "channel": recipient.channel() }),
    )
    .await?;
    tx.commit().await?;

    let when = loaded
        .meeting
        .scheduled_start
        .with_timezone(&workspace.time_zone)
        .format(SPOKEN_TIME);
    let link = format!("{}/visit#{token}", services.public_url);
    let body = match channel {
        Channel::Email => format!(
            "Your video visit with {clinic} is on {when}.\n\nJoin from this link at the time of your visit (no account or download needed):\n{link}\n\nIf you cannot make it, open the link to let the clinic know.\n",
            clinic = workspace.name,
        ),
        Channel::Sms => format!(
            "{}: your video visit is {when}. Join: {link}",
            workspace.name
        ),
    };
    let message = Message {
        workspace_id: user.workspace_id,
        to: recipient,
        subject: format!("Your video visit with {}", workspace.name),
        body,
    };
    services.notifier.send(&message).await?;
    Ok(())
}

/// What a link is for: time, clinician, the participant's first name, expiry. Wrong
/// links are throttled per source and all get the same answer.
pub async fn link_info(
    services: &Services,
    token: &str,
    source: Option<IpAddr>,
) -> Result<(Bound, LinkInfo)> {
    let attempt = services
        .link_throttle
        .begin("", source, std::time::Instant::now())
        .map_err(|retry_after_secs| Error::Throttled { retry_after_secs })?;
    let bound = match links::resolve(services, token).await {
        Ok(bound) => bound,
        Err(error) => {
            attempt.failed();
            return Err(error);
        }
    };
    attempt.succeeded();
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    let meeting = store::find(&mut tx, bound.meeting_id)
        .await?
        .ok_or(Error::InvalidLink)?;
    let participant = store::participant(&mut tx, bound.meeting_id, bound.participant_id)
        .await?
        .ok_or(Error::InvalidLink)?;
    let clinician: String = sqlx::query_scalar("select name from app_user where user_id = $1")
        .bind(meeting.clinician_id)
        .fetch_one(&mut *tx)
        .await?;
    let workspace = workspaces::current(&mut tx).await?;
    let expires_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "select max(expires_at) from meeting_link where participant_id = $1 and revoked_at is null",
    )
    .bind(bound.participant_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let first_name = participant
        .display_name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok((
        bound,
        LinkInfo {
            meeting_id: meeting.meeting_id,
            starts_at: meeting.scheduled_start,
            time_zone: workspace.time_zone.name().to_owned(),
            when: meeting
                .scheduled_start
                .with_timezone(&workspace.time_zone)
                .format(SPOKEN_TIME)
                .to_string(),
            clinician_name: clinician,
            first_name,
            expires_at,
            status: meeting.status(),
        },
    ))
}

/// Redeems a link into a visit session (the explicit action of the landing page).
/// A rejected participant, or an ended visit, cannot.
pub async fn redeem(
    services: &Services,
    token: &str,
    source: Option<IpAddr>,
) -> Result<(Bound, String)> {
    let (bound, info) = link_info(services, token, source).await?;
    if info.status == app::meetings::MeetingStatus::Ended {
        return Err(Error::State("This visit has ended."));
    }
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    let participant = store::participant(&mut tx, bound.meeting_id, bound.participant_id)
        .await?
        .ok_or(Error::InvalidLink)?;
    if participant.state() == ParticipantState::Rejected {
        return Err(Error::State("The clinic has closed this visit for you."));
    }
    note_source(&mut tx, bound.participant_id, source).await?;
    audit_participant(
        &mut tx,
        bound.workspace_id,
        None,
        "meeting.link_redeemed",
        (bound.meeting_id, bound.participant_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let session =
        links::redeem(services, bound, token, Duration::hours(VISIT_SESSION_HOURS)).await?;
    Ok((bound, session))
}

/// Records the participant's answer to the invitation (from the link; no session).
pub async fn rsvp(
    services: &Services,
    meeting_id: Uuid,
    token: &str,
    accepted: bool,
    source: Option<IpAddr>,
) -> Result<()> {
    let (bound, _) = link_info(services, token, source).await?;
    if bound.meeting_id != meeting_id {
        return Err(Error::InvalidLink);
    }
    let response = if accepted { "accepted" } else { "declined" };
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    sqlx::query("update meeting_participant set rsvp = $2 where participant_id = $1")
        .bind(bound.participant_id)
        .bind(response)
        .execute(&mut *tx)
        .await?;
    audit_participant(
        &mut tx,
        bound.workspace_id,
        None,
        "meeting.rsvp",
        (meeting_id, bound.participant_id),
        json!({ "response": response }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The caller's LiveKit token for a meeting, by the grant matrix: a waiting guest gets a
/// hidden token without media rights; an admitted one full rights; a rejected one, or
/// anyone once the visit ended, none.
pub async fn media_token(
    services: &Services,
    caller: &Caller,
    meeting_id: Uuid,
    source: Option<IpAddr>,
) -> Result<MediaToken> {
    match caller {
        Caller::Staff(principal) => {
            // The hot path (clients refresh tokens often): one transaction, one
            // statement that reads the meeting and the caller's row and audits the
            // token, committed without waiting for the WAL flush (see
            // `Db::begin_fast_commit_for`).
            let mut tx = services
                .db
                .begin_fast_commit_for(principal.workspace_id)
                .await?;
            let Some(found) =
                store::with_staff_token_audited(&mut tx, meeting_id, principal.user_id).await?
            else {
                let exists = store::find(&mut tx, meeting_id).await?.is_some();
                return Err(if exists {
                    Error::Forbidden
                } else {
                    Error::NotFound
                });
            };
            let rights = media_rights(
                found.me.role(),
                found.me.state(),
                found.meeting.status(),
                false,
            )
            .ok_or(Error::State("This visit has ended."))?;
            let token = services.media.participant_token(
                &found.meeting.room_name,
                found.me.participant_id,
                &found.me.display_name,
                found.me.role(),
                found.meeting.workspace_id,
                rights,
            )?;
            if source.map(|s| s.to_string()) != found.me.last_source {
                note_source(&mut tx, found.me.participant_id, source).await?;
            }
            tx.commit().await?;
            Ok(MediaToken {
                livekit_url: services.media.client_url().into(),
                token,
                identity: found.me.participant_id,
                room_name: found.meeting.room_name,
                state: found.me.state(),
            })
        }
        Caller::Visit(bound) => {
            if bound.meeting_id != meeting_id {
                return Err(Error::NotFound);
            }
            let mut tx = services
                .db
                .begin_fast_commit_for(bound.workspace_id)
                .await?;
            let preview: bool = sqlx::query_scalar(
                "select waiting_room_preview from workspace where workspace_id = $1",
            )
            .bind(bound.workspace_id)
            .fetch_one(&mut *tx)
            .await?;
            let meeting = store::find(&mut tx, meeting_id)
                .await?
                .ok_or(Error::NotFound)?;
            let participant = store::participant(&mut tx, meeting_id, bound.participant_id)
                .await?
                .ok_or(Error::NotFound)?;
            let rights = media_rights(
                participant.role(),
                participant.standing(),
                meeting.status(),
                preview,
            )
            .ok_or(if participant.state() == ParticipantState::Rejected {
                Error::Forbidden
            } else {
                Error::State("This visit has ended.")
            })?;
            let token = services.media.participant_token(
                &meeting.room_name,
                participant.participant_id,
                &participant.display_name,
                participant.role(),
                bound.workspace_id,
                rights,
            )?;
            note_source(&mut tx, participant.participant_id, source).await?;
            audit_participant(
                &mut tx,
                bound.workspace_id,
                None,
                "meeting.token_issued",
                (meeting_id, participant.participant_id),
                json!({ "role": participant.role, "hidden": rights.hidden }),
            )
            .await?;
            tx.commit().await?;
            Ok(MediaToken {
                livekit_url: services.media.client_url().into(),
                token,
                identity: participant.participant_id,
                room_name: meeting.room_name,
                state: participant.state(),
            })
        }
    }
}

/// The waiting page's heartbeat: present for [`admission::PRESENCE_TTL`]; returns where
/// the visit stands (the page learns admission from this, or from events).
pub async fn heartbeat(services: &Services, bound: &Bound) -> Result<VisitStatus> {
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    let meeting = store::find(&mut tx, bound.meeting_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    // An ended visit keeps nobody present: the page only learns that it ended.
    if meeting.status() != app::meetings::MeetingStatus::Ended {
        admission::arrive(
            services,
            bound.workspace_id,
            bound.meeting_id,
            bound.participant_id,
        )
        .await?;
    }
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    let participant = store::participant(&mut tx, bound.meeting_id, bound.participant_id)
        .await?
        .ok_or(Error::NotFound)?;
    let last_message_id = super::chat::last_id(&mut tx, bound.meeting_id).await?;
    tx.commit().await?;
    Ok(VisitStatus {
        last_message_id,
        meeting_id: bound.meeting_id,
        state: participant.state(),
        meeting_status: meeting.status(),
        rejection_reason: participant.rejection_reason,
    })
}

/// Stores what the patient's device check found (the latest run wins) and tells the
/// clinician's console, whose waiting panel shows it beside the patient's name.
pub async fn report_device_check(
    services: &Services,
    bound: &Bound,
    report: &DeviceCheckReport,
) -> Result<()> {
    if report
        .round_trip_ms
        .is_some_and(|ms| ms > MAX_ROUND_TRIP_MS)
    {
        return Err(Error::field(
            "round_trip_ms",
            "A round trip is at most 60000 ms.",
        ));
    }
    let too_fast = |kbps: Option<u32>| kbps.is_some_and(|k| k > MAX_THROUGHPUT_KBPS);
    if too_fast(report.down_kbps) || too_fast(report.up_kbps) {
        return Err(Error::field(
            "down_kbps",
            "A throughput is at most 10000000 kbit/s.",
        ));
    }
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    let meeting = store::find(&mut tx, bound.meeting_id)
        .await?
        .ok_or(Error::NotFound)?;
    require_live(&meeting)?;
    store::set_device_check(&mut tx, bound.participant_id, report).await?;
    tx.commit().await?;
    super::service::announce(
        services,
        bound.meeting_id,
        crate::waiting_room::MeetingEvent::DeviceCheck {
            participant_id: bound.participant_id,
        },
    )
    .await;
    Ok(())
}
