//! Patient list with a form to add one.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{CreatePatient, list_patients};

/// The clinic's patients and an "add patient" form.
#[component]
pub fn PatientsPage() -> impl IntoView {
    let create = ServerAction::<CreatePatient>::new();
    let patients = Resource::new(move || create.version().get(), |_| list_patients());
    let field_error = move |field: &'static str| {
        move || {
            create
                .value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.field_message(field))
                .map(|m| view! { <span class="field-error">{m}</span> })
        }
    };
    view! {
        <Title text="Patients" />
        <div class="page-head">
            <h1>"Patients"</h1>
        </div>
        <div class="two-col">
            <section class="card">
                <Transition fallback=|| view! { <div class="loading">"Loading patients…"</div> }>
                    {move || Suspend::new(async move {
                        match patients.await {
                            Err(error) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted">"No patients yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <table class="table" data-testid="patient-list">
                                    <thead><tr><th>"Name"</th><th>"Date of birth"</th><th>"Email"</th><th>"Phone"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|p| view! {
                                            <tr>
                                                <td>{p.name}</td>
                                                <td>{p.date_of_birth.map(|d| d.to_string()).unwrap_or_default()}</td>
                                                <td>{p.email.unwrap_or_default()}</td>
                                                <td>{p.phone.unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <section class="card">
                <h2>"Add a patient"</h2>
                <ActionForm action=create>
                    <label class="field"><span>"Full name"</span>
                        <input name="form[name]" required autocomplete="off" />{field_error("name")}</label>
                    <label class="field"><span>"Date of birth"</span>
                        <input type="date" name="form[date_of_birth]" />{field_error("date_of_birth")}</label>
                    <label class="field"><span>"Email"</span>
                        <input type="email" name="form[email]" autocomplete="off" />{field_error("email")}</label>
                    <label class="field"><span>"Mobile phone"</span>
                        <input type="tel" name="form[phone]" autocomplete="off" />{field_error("phone")}</label>
                    <button type="submit" class="button primary">"Add patient"</button>
                </ActionForm>
            </section>
        </div>
    }
}
