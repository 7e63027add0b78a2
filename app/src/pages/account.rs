//! The signed-in user's account: change the password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::ChangePassword;
use crate::error::AppError;

/// A change-password form. The server refuses common or guessable passwords with the
/// reason; on success every other login of the user ends and this page says so.
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let field_error = move |field: &'static str| {
        move || {
            change
                .value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.field_message(field))
                .map(|m| view! { <span class="field-error" data-testid=format!("{field}-error")>{m}</span> })
        }
    };
    let outcome = move || match change.value().get() {
        Some(Ok(())) => Some(
            view! {
                <p class="banner success" role="status" data-testid="password-changed">
                    "Password changed. You were signed out everywhere else."
                </p>
            }
            .into_any(),
        ),
        Some(Err(AppError::Validation(_))) | None => None,
        Some(Err(error)) => {
            Some(view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any())
        }
    };
    view! {
        <Title text="Account" />
        <div class="page-head">
            <h1>"Account"</h1>
        </div>
        <section class="card narrow">
            <h2>"Change password"</h2>
            <p class="muted">
                "Use at least 12 characters. A few unrelated words are easy to remember and hard to guess; common passwords are refused."
            </p>
            <ActionForm action=change>
                <label class="field">
                    <span>"Current password"</span>
                    <input type="password" name="current_password" autocomplete="current-password" required />
                    {field_error("current_password")}
                </label>
                <label class="field">
                    <span>"New password"</span>
                    <input type="password" name="new_password" autocomplete="new-password" minlength="12" required />
                    {field_error("new_password")}
                </label>
                {outcome}
                <button type="submit" class="button primary" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { "Saving…" } else { "Change password" }}
                </button>
            </ActionForm>
        </section>
    }
}
