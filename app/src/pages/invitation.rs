//! Accepting a staff invitation: the emailed link is `/invitation#TOKEN`. The token sits
//! in the fragment, which browsers never send to a server, so it appears in no request
//! log; the page reads it in the browser and posts it with the chosen password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::AcceptInvitation;
use crate::error::AppError;

/// Choose a password for an invited account.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let token = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Ok(hash) = window().location().hash() {
            token.set(hash.trim_start_matches('#').to_owned());
        }
    });
    let message = move |field: &'static str| {
        move || {
            accept
                .value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.field_message(field))
                .map(|m| view! { <p class="banner error" role="alert" data-testid=format!("{field}-error")>{m}</p> })
        }
    };
    let other_error = move || match accept.value().get() {
        Some(Err(error)) if !matches!(error, AppError::Validation(_)) => {
            Some(view! { <p class="banner error" role="alert">{error.to_string()}</p> })
        }
        _ => None,
    };
    view! {
        <Title text="Join your clinic" />
        <main class="login">
            <section class="card login-card">
                <h1 class="brand-title">
                    <span class="brand-mark" aria-hidden="true">"+"</span>
                    "Bedside"
                </h1>
                {move || match accept.value().get() {
                    Some(Ok(email)) => view! {
                        <p class="banner success" role="status" data-testid="invitation-accepted">
                            "Your account " {email} " is ready."
                        </p>
                        <a class="button primary wide" href="/login">"Sign in"</a>
                    }.into_any(),
                    _ => view! {
                        <p class="muted">"Choose a password to join your clinic."</p>
                        <ActionForm action=accept>
                            <input type="hidden" name="token" prop:value=move || token.get() />
                            {message("token")}
                            <label class="field">
                                <span>"New password"</span>
                                <input type="password" name="password" autocomplete="new-password" minlength="12" required />
                            </label>
                            {message("password")}
                            {other_error}
                            <button type="submit" class="button primary wide" disabled=move || accept.pending().get()>
                                "Create my account"
                            </button>
                        </ActionForm>
                    }.into_any(),
                }}
            </section>
        </main>
    }
}
