//! The SOAP panel of the visit console: Subjective, Objective, Assessment, Plan. The
//! draft is saved on the server shortly after each change (no keystroke is lost to a
//! reload, a network blip or the end of the visit), and becomes read-only once the
//! visit ended and the note was filed on the patient's chart.

use leptos::prelude::*;

use crate::api::{SaveVisitNote, get_visit_note};
use crate::meetings::SoapNote;

/// How long typing may pause before the draft is saved.
const SAVE_AFTER_MS: u64 = 600;

/// The SOAP note of meeting `meeting_id`.
#[component]
pub fn SoapPanel(meeting_id: String) -> impl IntoView {
    let id = meeting_id.clone();
    let loaded = Resource::new(|| (), move |_| get_visit_note(id.clone()));
    view! {
        <section class="card soap" aria-label="Visit note">
            <h2>"Visit note (SOAP)"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading the note…"</p> }>
                {move || {
                    let meeting_id = meeting_id.clone();
                    Suspend::new(async move {
                        match loaded.await {
                            Err(error) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
                            Ok(note) => view! { <SoapForm meeting_id=meeting_id note=note /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn SoapForm(meeting_id: String, note: SoapNote) -> impl IntoView {
    let filed = note.filed_at.is_some();
    let sections = [
        RwSignal::new(note.subjective),
        RwSignal::new(note.objective),
        RwSignal::new(note.assessment),
        RwSignal::new(note.plan),
    ];
    let save = ServerAction::<SaveVisitNote>::new();
    // Each change bumps the generation; a save runs when typing paused for a moment.
    let generation = StoredValue::new(0u64);
    let schedule_save = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let meeting_id = meeting_id.clone();
        set_timeout(
            move || {
                if generation.get_value() == mine {
                    let [s, o, a, p] = sections.map(|section| section.get_untracked());
                    save.dispatch(SaveVisitNote {
                        meeting_id,
                        subjective: s,
                        objective: o,
                        assessment: a,
                        plan: p,
                    });
                }
            },
            std::time::Duration::from_millis(SAVE_AFTER_MS),
        );
    };
    let state = move || match save.value().get() {
        _ if save.pending().get() => "Saving…".to_owned(),
        Some(Ok(_)) => "Draft saved".to_owned(),
        Some(Err(error)) => error.to_string(),
        None if filed => "Filed on the patient's chart".to_owned(),
        None => "Saved as you type".to_owned(),
    };
    let labels = ["Subjective", "Objective", "Assessment", "Plan"];
    view! {
        <p class="muted" role="status" data-testid="soap-state">{state}</p>
        {labels.into_iter().zip(sections).map(|(label, section)| {
            let schedule_save = schedule_save.clone();
            view! {
                <label class="field">
                    <span>{label}</span>
                    <textarea
                        rows="3"
                        maxlength="20000"
                        data-testid=format!("soap-{}", label.to_lowercase())
                        prop:value=move || section.get()
                        disabled=filed
                        on:input=move |event| {
                            section.set(event_target_value(&event));
                            schedule_save();
                        }
                    ></textarea>
                </label>
            }
        }).collect_view()}
    }
}
