//! Today's schedule (or any day's, with `?date=YYYY-MM-DD`).

use chrono::{Days, NaiveDate};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::get_day_schedule;
use crate::types::{Appointment, AppointmentStatus, DaySchedule, Modality};

/// The appointments of one day, earliest first.
#[component]
pub fn SchedulePage() -> impl IntoView {
    let query = use_query_map();
    let schedule = Resource::new(move || query.with(|q| q.get("date")), get_day_schedule);
    view! {
        <Title text="Schedule" />
        <Transition fallback=|| view! { <div class="loading">"Loading schedule…"</div> }>
            {move || Suspend::new(async move {
                match schedule.await {
                    Ok(day) => view! { <Day day /> }.into_any(),
                    Err(error) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Day(day: DaySchedule) -> impl IntoView {
    let heading = day.date.format("%A, %-d %B %Y").to_string();
    let link = |date: Option<NaiveDate>| date.map(|d| format!("/?date={d}")).unwrap_or_default();
    let previous = link(day.date.checked_sub_days(Days::new(1)));
    let next = link(day.date.checked_add_days(Days::new(1)));
    let new_link = format!("/appointments/new?date={}", day.date);
    let count = day.appointments.len();
    let empty = day.appointments.is_empty();
    view! {
        <div class="page-head">
            <div>
                <h1 data-testid="schedule-date">{heading}</h1>
                <p class="muted">
                    {format!("{count} appointment{} · times in {}", if count == 1 { "" } else { "s" }, day.time_zone)}
                </p>
            </div>
            <div class="actions">
                <A href=previous attr:class="button ghost" attr:aria-label="Previous day">"←"</A>
                <A href="/" attr:class="button ghost">"Today"</A>
                <A href=next attr:class="button ghost" attr:aria-label="Next day">"→"</A>
                <A href=new_link attr:class="button primary">"New appointment"</A>
            </div>
        </div>
        <Show when=move || empty>
            <div class="empty card">
                <p>"No appointments this day."</p>
            </div>
        </Show>
        <ol class="schedule" data-testid="schedule">
            {day.appointments.into_iter().map(|a| view! { <AppointmentCard appointment=a /> }).collect_view()}
        </ol>
    }
}

#[component]
fn AppointmentCard(appointment: Appointment) -> impl IntoView {
    let edit = format!("/appointments/{}", appointment.id);
    let appointment_id = appointment.id.to_string();
    let start = ServerAction::<crate::api::StartVisit>::new();
    let status_class = format!("status status-{}", appointment.status.as_str());
    let telehealth = appointment.modality == Modality::Telehealth;
    let startable = telehealth
        && matches!(
            appointment.status,
            AppointmentStatus::Scheduled | AppointmentStatus::InProgress
        );
    let modality_class = format!("badge badge-{}", appointment.modality.as_str());
    view! {
        <li class="appointment card" data-testid="appointment">
            <div class="when">
                <span class="start">{appointment.local_start.clone()}</span>
                <span class="end muted">{appointment.local_end.clone()}</span>
            </div>
            <div class="what">
                <h2 class="patient" data-testid="appointment-patient">{appointment.patient_name.clone()}</h2>
                <p class="reason">{appointment.reason.clone()}</p>
                <p class="meta">
                    <span class=modality_class>{appointment.modality.label()}</span>
                    <span class=status_class>{appointment.status.label()}</span>
                    <span class="muted">{format!("with {}", appointment.clinician_name)}</span>
                </p>
            </div>
            <div class="card-actions">
                {(startable).then(|| view! {
                    <ActionForm action=start attr:class="inline">
                        <input type="hidden" name="appointment_id" value=appointment_id.clone() />
                        <button type="submit" class="button start" data-testid="start-visit">"Start visit"</button>
                    </ActionForm>
                })}
                <A href=edit.clone() attr:class="button ghost">"Edit"</A>
            </div>
        </li>
    }
}
