//! The clinician's visit console (`/visits/:id`): who is in the visit and in what state,
//! the waiting room with Admit and Reject, sending the one-tap link, and ending the
//! visit. The page follows the meeting's server-sent events (`/api/v1/meetings/{id}/
//! events`), so a patient arriving shows up without polling; the call view itself comes
//! with the browser media client.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::chat::ChatPanel;
use super::soap::SoapPanel;
use crate::api::{DecideAdmission, EndVisit, SendVisitLink, get_meeting};
use crate::call::arrivals::AlertsToggle;
use crate::call::portal::use_portal_call;
use crate::meetings::{
    DeviceCheckReport, DeviceStatus, Meeting, MeetingStatus, Participant, ParticipantRole,
    ParticipantState, VideoRoute, describe_kbps,
};

/// The visit console.
#[component]
pub fn VisitConsolePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let decide = ServerAction::<DecideAdmission>::new();
    let send = ServerAction::<SendVisitLink>::new();
    let end = ServerAction::<EndVisit>::new();
    let portal = use_portal_call();
    // Bumped by every event of the meeting the portal is in: the meeting is read again.
    let pushed = Signal::derive(move || portal.map(|p| p.events.get()).unwrap_or(0));
    let meeting = Resource::new(
        move || {
            (
                id(),
                pushed.get(),
                decide.version().get(),
                end.version().get(),
            )
        },
        |(id, _, _, _)| get_meeting(id),
    );
    // Ending the visit leaves the call and returns to the schedule. (Joining is the
    // `Console`'s: the meeting is read only inside the transition below. A read out
    // here would tie every re-read of it, one per pushed event, to the layout's
    // `Suspense`, which then takes the whole page, call included, off the document
    // and back, and the browser pauses the call's videos each time.)
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if end.value().get().is_some_and(|r| r.is_ok()) {
            if let Some(portal) = portal {
                portal.end();
            }
            navigate("/", Default::default());
        }
    });
    view! {
        <Title text="Video visit" />
        <div class="page-head">
            <h1>"Video visit"</h1>
        </div>
        <Transition fallback=|| view! { <div class="loading">"Loading the visit…"</div> }>
            {move || Suspend::new(async move {
                match meeting.await {
                    Err(error) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
                    Ok(meeting) => view! { <Console meeting=meeting decide=decide send=send end=end /> }.into_any(),
                }
            })}
        </Transition>
        // Outside the meeting's transition: pushed events re-read the meeting without
        // re-creating the chat or the note (nothing typed is reset).
        {move || {
            let id = id();
            (!id.is_empty()).then(|| view! {
                <ChatPanel meeting_id=id.clone() refresh=Signal::derive(move || u64::from(pushed.get())) />
                <SoapPanel meeting_id=id />
            })
        }}
    }
}

#[component]
fn Console(
    meeting: Meeting,
    decide: ServerAction<DecideAdmission>,
    send: ServerAction<SendVisitLink>,
    end: ServerAction<EndVisit>,
) -> impl IntoView {
    let ended = meeting.status == MeetingStatus::Ended;
    // Opening a live visit's console joins its call (and follows its events); joining
    // the call the portal is already in does nothing.
    if let Some(portal) = use_portal_call()
        && !ended
    {
        let id = meeting.id.to_string();
        // An effect runs in the browser only; the next task, never mid-hydration.
        Effect::new(move |_| {
            let id = id.clone();
            set_timeout(move || portal.join_meeting(id), std::time::Duration::ZERO);
        });
    }
    let status = match meeting.status {
        MeetingStatus::Waiting => "Not started",
        MeetingStatus::Ringing => "You are in the room",
        MeetingStatus::InCall => "In call",
        MeetingStatus::Ended => "Ended",
    };
    let meeting_id = meeting.id.to_string();
    let guests: Vec<Participant> = meeting
        .participants
        .iter()
        .filter(|p| p.role != ParticipantRole::Clinician)
        .cloned()
        .collect();
    let rows = meeting
        .participants
        .iter()
        .cloned()
        .map(|p| view! { <ParticipantRow participant=p meeting_id=meeting_id.clone() decide=decide ended=ended /> })
        .collect_view();
    let sent = move || {
        send.value().get().map(|r| match r {
            Ok(()) => view! { <p class="banner success" role="status" data-testid="link-sent">"Link sent."</p> }.into_any(),
            Err(error) => view! { <p class="banner error" role="alert" data-testid="link-error">{error.to_string()}</p> }.into_any(),
        })
    };
    let end_id = meeting_id.clone();
    view! {
        <section class="card">
            <p class="meta">
                <span class="badge" data-testid="visit-status">{status}</span>
                <span class="muted">{format!(" {} minutes", meeting.duration_minutes)}</span>
            </p>
            <table class="table" data-testid="visit-participants">
                <thead><tr><th>"Name"</th><th>"Role"</th><th>"State"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        {(!ended).then(|| view! {
            <section class="card narrow">
                <h2>"Send the visit link"</h2>
                <ActionForm action=send>
                    <input type="hidden" name="meeting_id" value=meeting_id.clone() />
                    <label class="field">
                        <span>"To"</span>
                        <select name="participant_id" data-testid="link-participant">
                            {guests.iter().map(|g| view! { <option value=g.id.to_string()>{g.name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"By"</span>
                        <select name="channel" data-testid="link-channel">
                            <option value="email">"Email"</option>
                            <option value="sms">"Text message"</option>
                        </select>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="sms_consent" data-testid="link-sms-consent" />
                        " The patient agreed to receive text messages"
                    </label>
                    {sent}
                    <button type="submit" class="button primary" data-testid="send-link">"Send link"</button>
                </ActionForm>
                {use_portal_call().map(|portal| view! { <AlertsToggle arrivals=portal.arrivals /> })}
            </section>
            <ActionForm action=end>
                <input type="hidden" name="meeting_id" value=end_id.clone() />
                <button type="submit" class="button danger" data-testid="end-visit">"End visit for everyone"</button>
            </ActionForm>
        })}
    }
}

#[component]
fn ParticipantRow(
    participant: Participant,
    meeting_id: String,
    decide: ServerAction<DecideAdmission>,
    ended: bool,
) -> impl IntoView {
    let state = match participant.state {
        ParticipantState::Invited => "Invited",
        ParticipantState::Waiting => "Waiting",
        ParticipantState::Admitted => "Admitted",
        ParticipantState::InCall => "In call",
        ParticipantState::Left => "Left",
        ParticipantState::Rejected => "Turned away",
    };
    let role = match participant.role {
        ParticipantRole::Clinician => "Clinician",
        ParticipantRole::Patient => "Patient",
        ParticipantRole::Caregiver => "Caregiver",
        ParticipantRole::Interpreter => "Interpreter",
    };
    let waiting = participant.state == ParticipantState::Waiting && !ended;
    let since = participant
        .waiting_since
        .map(|t| format!(" since {} UTC", t.format("%H:%M")));
    let pid = participant.id.to_string();
    let (meeting_again, pid_again) = (meeting_id.clone(), pid.clone());
    view! {
        <tr data-testid="participant" data-state=participant.state.as_str()>
            <td>{participant.name.clone()}</td>
            <td>{role}</td>
            <td>
                <span data-testid="participant-state">{state}{since}</span>
                {participant.device_check.map(|check| view! {
                    <span class="device-result" data-testid="device-check-result">{describe_check(check)}</span>
                })}
            </td>
            <td>
                {(waiting).then(|| view! {
                    <div class="row-actions">
                        <ActionForm action=decide>
                            <input type="hidden" name="meeting_id" value=meeting_id.clone() />
                            <input type="hidden" name="participant_id" value=pid.clone() />
                            <input type="hidden" name="admit" value="true" />
                            <button type="submit" class="button primary" data-testid="admit">"Admit"</button>
                        </ActionForm>
                        <ActionForm action=decide>
                            <input type="hidden" name="meeting_id" value=meeting_again.clone() />
                            <input type="hidden" name="participant_id" value=pid_again.clone() />
                            <input type="hidden" name="admit" value="false" />
                            <input type="text" name="reason" placeholder="Reason (optional)" aria-label="Reason for turning away" />
                            <button type="submit" class="button ghost" data-testid="reject">"Reject"</button>
                        </ActionForm>
                    </div>
                })}
            </td>
        </tr>
    }
}

/// A device check in the clinician's words: "Camera working · Microphone blocked ·
/// Connection 24 ms, 40 Mbit/s down, 12 Mbit/s up, direct".
fn describe_check(check: DeviceCheckReport) -> String {
    let status = |s: DeviceStatus| match s {
        DeviceStatus::Working => "working",
        DeviceStatus::Blocked => "blocked by the browser",
        DeviceStatus::Failed => "not working",
    };
    let mut connection = match check.round_trip_ms {
        Some(ms) => format!("Connection {ms} ms"),
        None => "Connection failed".to_owned(),
    };
    if let (Some(down), Some(up)) = (check.down_kbps, check.up_kbps) {
        connection.push_str(&format!(
            ", {} down, {} up",
            describe_kbps(down),
            describe_kbps(up)
        ));
    }
    match check.route {
        Some(VideoRoute::Udp) => connection.push_str(", direct"),
        Some(VideoRoute::Tcp) => connection.push_str(", over TCP (UDP blocked)"),
        Some(VideoRoute::Relay) => connection.push_str(", relayed"),
        None => {}
    }
    format!(
        "Camera {} · Microphone {} · {connection}",
        status(check.camera),
        status(check.microphone)
    )
}
