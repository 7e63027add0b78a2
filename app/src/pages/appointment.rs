//! Create and edit an appointment; the patient is picked from the list or created inline.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::api::{SaveAppointment, get_appointment, list_patients, list_staff};
use crate::error::AppError;
use crate::layout::SessionResource;
use crate::types::{Appointment, AppointmentStatus, Modality, Patient, Role, StaffMember};

/// The patient-select value that creates a patient with the appointment.
pub const NEW_PATIENT: &str = "new";

/// Everything the editor needs before it can render.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct EditorData {
    patients: Vec<Patient>,
    staff: Vec<StaffMember>,
    role: Role,
    default_date: String,
    existing: Option<Appointment>,
}

async fn load_editor(
    session: SessionResource,
    id: Option<String>,
    date: Option<String>,
) -> Result<EditorData, AppError> {
    let session = session.await?;
    let existing = match id {
        None => None,
        Some(id) => {
            Some(get_appointment(id.parse::<Uuid>().map_err(|_| AppError::NotFound)?).await?)
        }
    };
    let staff = if session.user.role == Role::Admin {
        list_staff().await?
    } else {
        Vec::new()
    };
    Ok(EditorData {
        patients: list_patients().await?,
        staff,
        role: session.user.role,
        default_date: date.unwrap_or_else(|| session.today.to_string()),
        existing,
    })
}

/// `/appointments/new[?date=YYYY-MM-DD]`
#[component]
pub fn NewAppointmentPage() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let query = use_query_map();
    let data = Resource::new(
        move || query.with(|q| q.get("date")),
        move |date| load_editor(session, None, date),
    );
    view! {
        <Title text="New appointment" />
        <div class="page-head"><h1>"New appointment"</h1></div>
        <EditorLoader data />
    }
}

/// `/appointments/:id`
#[component]
pub fn EditAppointmentPage() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let params = use_params_map();
    let data = Resource::new(
        move || params.with(|p| p.get("id")),
        move |id| load_editor(session, id, None),
    );
    view! {
        <Title text="Edit appointment" />
        <div class="page-head"><h1>"Edit appointment"</h1></div>
        <EditorLoader data />
    }
}

#[component]
fn EditorLoader(data: Resource<Result<EditorData, AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <div class="loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <AppointmentEditor data /> }.into_any(),
                    Err(error) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AppointmentEditor(data: EditorData) -> impl IntoView {
    let save = ServerAction::<SaveAppointment>::new();
    let existing = data.existing.clone();
    let creating_patient = RwSignal::new(data.patients.is_empty());
    let field_error = move |field: &'static str| {
        move || {
            save.value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.field_message(field))
                .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
        }
    };
    let general_error = move || {
        save.value().get().and_then(|r| r.err()).map(|e| {
            view! { <p class="banner error" role="alert" data-testid="form-error">{e.to_string()}</p> }
        })
    };

    let selected_patient = existing
        .as_ref()
        .map(|a| a.patient_id.to_string())
        .unwrap_or_default();
    let no_selection = selected_patient.is_empty() && !data.patients.is_empty();
    let selected_clinician = existing
        .as_ref()
        .map(|a| a.clinician_id.to_string())
        .unwrap_or_default();
    let date = existing
        .as_ref()
        .map(|a| a.local_date.to_string())
        .unwrap_or(data.default_date.clone());
    let time = existing
        .as_ref()
        .map(|a| a.local_start.clone())
        .unwrap_or_else(|| "09:00".into());
    let duration = existing.as_ref().map(|a| a.duration_minutes).unwrap_or(30);
    let modality = existing
        .as_ref()
        .map(|a| a.modality)
        .unwrap_or(Modality::Telehealth);
    let reason = existing
        .as_ref()
        .map(|a| a.reason.clone())
        .unwrap_or_default();
    let status = existing.as_ref().map(|a| a.status);
    let id = existing
        .as_ref()
        .map(|a| a.id.to_string())
        .unwrap_or_default();
    let is_admin = data.role == Role::Admin;

    let patient_options = data
        .patients
        .into_iter()
        .map(|p| {
            let selected = p.id.to_string() == selected_patient;
            view! { <option value=p.id.to_string() selected=selected>{p.name}</option> }
        })
        .collect_view();
    let staff_options = data
        .staff
        .into_iter()
        .filter(|s| s.role == Role::Clinician)
        .map(|s| {
            let selected = s.id.to_string() == selected_clinician;
            view! { <option value=s.id.to_string() selected=selected>{s.name}</option> }
        })
        .collect_view();

    view! {
        <section class="card form-card">
            <ActionForm action=save>
                <input type="hidden" name="appointment_id" value=id />
                <fieldset class="field">
                    <legend>"Patient"</legend>
                    <select name="form[patient_id]" data-testid="patient-select" aria-label="Patient"
                        on:change=move |ev| creating_patient.set(event_target_value(&ev) == NEW_PATIENT)>
                        <option value="" disabled=true selected=no_selection>"Choose a patient…"</option>
                        {patient_options}
                        <option value=NEW_PATIENT selected=move || creating_patient.get()>"+ New patient"</option>
                    </select>
                    {field_error("patient_id")}
                    <Show when=move || creating_patient.get()>
                        <div class="inline-fields">
                            <label class="field"><span>"Full name"</span>
                                <input name="form[new_patient_name]" autocomplete="off" />{field_error("new_patient_name")}</label>
                            <label class="field"><span>"Email"</span>
                                <input type="email" name="form[new_patient_email]" autocomplete="off" />{field_error("new_patient_email")}</label>
                            <label class="field"><span>"Mobile phone"</span>
                                <input type="tel" name="form[new_patient_phone]" autocomplete="off" />{field_error("new_patient_phone")}</label>
                        </div>
                    </Show>
                </fieldset>
                {is_admin.then(|| view! {
                    <label class="field"><span>"Clinician"</span>
                        <select name="form[clinician_id]">{staff_options}</select>
                        {field_error("clinician_id")}</label>
                })}
                <div class="inline-fields">
                    <label class="field"><span>"Date"</span>
                        <input type="date" name="form[date]" value=date required />{field_error("date")}</label>
                    <label class="field"><span>"Time"</span>
                        <input type="time" name="form[time]" value=time required />{field_error("time")}</label>
                    <label class="field"><span>"Length"</span>
                        <select name="form[duration_minutes]">
                            {[15, 20, 30, 45, 60, 90].into_iter().map(|m| view! {
                                <option value=m.to_string() selected=m == duration>{format!("{m} min")}</option>
                            }).collect_view()}
                        </select>{field_error("duration_minutes")}</label>
                </div>
                <label class="field"><span>"Type"</span>
                    <select name="form[modality]">
                        {[Modality::Telehealth, Modality::InPerson].into_iter().map(|m| view! {
                            <option value=m.as_str() selected=m == modality>{m.label()}</option>
                        }).collect_view()}
                    </select>{field_error("modality")}</label>
                {status.map(|current| view! {
                    <label class="field"><span>"Status"</span>
                        <select name="form[status]">
                            {[AppointmentStatus::Scheduled, AppointmentStatus::InProgress, AppointmentStatus::Completed, AppointmentStatus::Cancelled]
                                .into_iter().map(|s| view! {
                                    <option value=s.as_str() selected=s == current>{s.label()}</option>
                                }).collect_view()}
                        </select>{field_error("status")}</label>
                })}
                <label class="field"><span>"Reason for visit"</span>
                    <textarea name="form[reason]" rows="3">{reason}</textarea>{field_error("reason")}</label>
                {general_error}
                <div class="form-actions">
                    <button type="submit" class="button primary" data-testid="save-appointment"
                        disabled=move || save.pending().get()>"Save appointment"</button>
                </div>
            </ActionForm>
        </section>
    }
}
