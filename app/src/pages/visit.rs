//! The patient's side of a visit, from the one-tap link `/visit#TOKEN`: no account.
//!
//! 1. The page says who the visit is with and when. Opening it redeems nothing (the
//!    token sits in the URL fragment, which browsers never send, and link previews or
//!    mail scanners only fetch the page); only **Continue** redeems the link, into a
//!    visit session cookie.
//! 2. The waiting room: a heartbeat every few seconds keeps the patient's place (it
//!    survives reloads: the session cookie and the link both stay valid) and tells the
//!    page when the clinician admits or turns them away, or ends the visit.
//!
//! 3. The device check (camera preview, microphone level, test sound, pickers, the
//!    connection), then **Join the waiting room**: the page connects to the call at
//!    once, hidden and without media rights, with the checked camera and microphone
//!    waiting to be sent. Admission is a live grant: media starts with no page change
//!    and no reconnect. A reload skips the check and reconnects.

use leptos::prelude::*;
use leptos_meta::Title;

use super::chat::ChatPanel;
use crate::api::{JoinVisit, visit_heartbeat, visit_link_info};
use crate::call::check::DeviceCheck;
use crate::call::stage::CallStage;
use crate::call::{CallHandle, CallState};
use crate::error::AppError;
use crate::meetings::{LinkInfo, MeetingStatus, ParticipantState, VisitStatus};

/// How often the waiting page says it is still there (the server's presence TTL is 30 s).
const HEARTBEAT_MS: u64 = 5_000;

/// The visit page.
#[component]
pub fn VisitPage() -> impl IntoView {
    // `None` until the browser has read the fragment (the server never sees it).
    let token = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let hash = window().location().hash().unwrap_or_default();
        token.set(Some(hash.trim_start_matches('#').to_owned()));
    });
    let info = Resource::new(
        move || token.get(),
        |token| async move {
            match token {
                None => Ok(None),
                Some(token) if token.is_empty() => Err(AppError::InvalidLink),
                Some(token) => visit_link_info(token).await.map(Some),
            }
        },
    );
    let join = ServerAction::<JoinVisit>::new();
    let status = RwSignal::new(None::<VisitStatus>);
    // Back after a reload: a live visit session for this meeting skips "Continue".
    let resumed = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(Some(info))) = info.get() {
            let meeting_id = info.meeting_id;
            leptos::task::spawn_local(async move {
                if let Ok(now) = visit_heartbeat().await
                    && now.meeting_id == meeting_id
                {
                    status.set(Some(now));
                    resumed.set(true);
                }
            });
        }
    });
    let replaced = RwSignal::new(false);
    let beating = StoredValue::new(false);
    Effect::new(move |_| {
        let joined = resumed.get() || join.value().get().is_some_and(|r| r.is_ok());
        if !joined || beating.get_value() {
            return;
        }
        beating.set_value(true);
        let beat = move || {
            leptos::task::spawn_local(async move {
                match visit_heartbeat().await {
                    Ok(now) => status.set(Some(now)),
                    // The link was opened again elsewhere: that device has the visit now.
                    Err(AppError::Unauthorized) => replaced.set(true),
                    Err(_) => {}
                }
            })
        };
        beat();
        let _ = set_interval_with_handle(beat, std::time::Duration::from_millis(HEARTBEAT_MS));
    });

    view! {
        <Title text="Your video visit" />
        <main class="login visit">
            <section class="card login-card" aria-live="polite">
                <h1 class="brand-title">
                    <span class="brand-mark" aria-hidden="true">"+"</span>
                    "Bedside"
                </h1>
                <Suspense fallback=|| view! { <p class="muted">"Opening your visit…"</p> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            Ok(None) => view! { <p class="muted">"Opening your visit…"</p> }.into_any(),
                            Err(error) => view! {
                                <p class="banner error" role="alert" data-testid="visit-error">{error.to_string()}</p>
                            }.into_any(),
                            Ok(Some(info)) => view! {
                                <Visit info=info token=token join=join status=status resumed=resumed replaced=replaced />
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

/// The visit once its link is known to be good.
#[component]
fn Visit(
    info: LinkInfo,
    token: RwSignal<Option<String>>,
    join: ServerAction<JoinVisit>,
    status: RwSignal<Option<VisitStatus>>,
    resumed: RwSignal<bool>,
    replaced: RwSignal<bool>,
) -> impl IntoView {
    let greeting = format!("Hi {}.", info.first_name);
    let details = format!(
        "Your video visit with {} is on {}.",
        info.clinician_name, info.when
    );
    let ended_at_open = info.status == MeetingStatus::Ended;
    let call = CallHandle::new();
    // Past the device check (or back after a reload, which skips it).
    let checked = RwSignal::new(false);
    let meeting = info.meeting_id.to_string();
    // Past the check: send the checked devices into the call it already connected (or,
    // back after a reload or if that connection failed, join with them).
    let connect = move || {
        checked.set(true);
        let connected = matches!(
            call.state.get_untracked(),
            CallState::Connecting | CallState::Connected | CallState::Reconnecting
        );
        if connected {
            call.publish_prepared();
        } else {
            call.join_meeting(meeting.clone());
        }
    };
    let connect = StoredValue::new(connect);
    // The device check proves the path to the media server by joining the call at
    // once, hidden and sending nothing.
    let check_meeting = info.meeting_id.to_string();
    let check_connected = StoredValue::new(false);
    Effect::new(move |_| {
        let joined = resumed.get() || join.value().get().is_some_and(|r| r.is_ok());
        if joined && !resumed.get_untracked() && !checked.get() && !check_connected.get_value() {
            check_connected.set_value(true);
            call.connect_for_check(check_meeting.clone());
        }
    });
    Effect::new(move |_| {
        if resumed.get() && !checked.get_untracked() {
            connect.with_value(|c| c());
        }
    });
    // The visit ended or the patient was turned away: leave the call.
    Effect::new(move |_| {
        let over = replaced.get()
            || status.get().is_some_and(|s| {
                s.meeting_status == MeetingStatus::Ended || s.state == ParticipantState::Rejected
            });
        if over {
            call.leave();
        }
    });
    let join_error = move || {
        join.value()
            .get()
            .and_then(|r| r.err())
            .map(|error| view! { <p class="banner error" role="alert" data-testid="visit-error">{error.to_string()}</p> })
    };
    // Which screen the patient sees. A memo, so a heartbeat that changes nothing (every
    // few seconds) re-renders nothing: the device check's preview and meter stay.
    let phase = Memo::new(move |_| {
        let joined = resumed.get() || join.value().get().is_some_and(|r| r.is_ok());
        match (ended_at_open, joined, status.get()) {
            (true, _, _) => Phase::Ended,
            (_, true, _) if replaced.get() => Phase::Replaced,
            (_, false, _) => Phase::Link,
            (_, true, Some(s)) if s.meeting_status == MeetingStatus::Ended => Phase::Ended,
            (_, true, Some(s)) if s.state == ParticipantState::Rejected => {
                Phase::Rejected(s.rejection_reason)
            }
            (_, true, _) if !checked.get() => Phase::Check,
            (_, true, Some(s))
                if matches!(
                    s.state,
                    ParticipantState::Admitted | ParticipantState::InCall
                ) =>
            {
                Phase::Admitted
            }
            (_, true, _) => Phase::Waiting,
        }
    });
    let stage = move || {
        match phase.get() {
        Phase::Ended => ended().into_any(),
        Phase::Replaced => view! {
            <p data-testid="visit-replaced">"You opened this visit on another device or tab; it continues there."</p>
            <p class="muted">"To use this one instead, open your link here again."</p>
        }
        .into_any(),
        Phase::Link => view! {
            <p>{greeting.clone()}</p>
            <p data-testid="visit-details">{details.clone()}</p>
            <p class="muted">"No account or download needed. Continue when you are ready; your clinician will let you in."</p>
            {join_error}
            <button
                type="button"
                class="button primary wide"
                data-testid="visit-continue"
                disabled=move || join.pending().get()
                on:click=move |_| {
                    if let Some(token) = token.get_untracked() {
                        join.dispatch(JoinVisit { token });
                    }
                }
            >
                {move || if join.pending().get() { "Joining…" } else { "Continue to your visit" }}
            </button>
        }
        .into_any(),
        Phase::Rejected(reason) => view! {
            <p data-testid="visit-rejected">"The clinic has closed this visit for you."</p>
            {reason.map(|r| view! { <p class="muted" data-testid="visit-rejection-reason">{r}</p> })}
            <p class="muted">"If this is unexpected, please call your clinic."</p>
        }
        .into_any(),
        Phase::Check => view! {
            <DeviceCheck call on_join=move || connect.with_value(|c| c()) />
        }
        .into_any(),
        Phase::Admitted => view! {
            <p class="banner success" role="status" data-testid="visit-admitted">
                "You're admitted. Your clinician is ready for you."
            </p>
        }
        .into_any(),
        Phase::Waiting => view! {
            <p data-testid="visit-waiting">"You're in the waiting room."</p>
            <p class="muted">"Your clinician will admit you. You can keep this page open; if you reload it, you keep your place."</p>
        }
        .into_any(),
    }
    };
    let meeting_id = info.meeting_id.to_string();
    let chat_open = move || {
        let joined = resumed.get() || join.value().get().is_some_and(|r| r.is_ok());
        joined
            && !replaced.get()
            && status.get().is_some_and(|s| {
                s.meeting_status != MeetingStatus::Ended && s.state != ParticipantState::Rejected
            })
    };
    let refresh =
        Signal::derive(move || status.get().and_then(|s| s.last_message_id).unwrap_or(0) as u64);
    view! {
        {stage}
        <Show when=move || checked.get() && chat_open()>
            <CallStage call />
        </Show>
        <Show when=chat_open>
            <ChatPanel meeting_id=meeting_id.clone() refresh=refresh />
        </Show>
    }
}

/// The screens of the patient's page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// The link page, before Continue.
    Link,
    /// The device check.
    Check,
    /// In the waiting room.
    Waiting,
    /// Admitted: in the call.
    Admitted,
    /// Turned away, with the clinician's reason if given.
    Rejected(Option<String>),
    /// The visit moved to another device or tab.
    Replaced,
    /// The visit is over.
    Ended,
}

fn ended() -> impl IntoView {
    view! {
        <p data-testid="visit-ended">"This visit has ended. Thank you."</p>
        <p class="muted">"You can close this page."</p>
    }
}
