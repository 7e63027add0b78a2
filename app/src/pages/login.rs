//! Sign-in page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::SignIn;

/// Email + password form; wrong credentials show a clear message.
#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = move || {
        sign_in
            .value()
            .get()
            .and_then(|result| result.err())
            .map(|error| view! { <p class="banner error" role="alert" data-testid="login-error">{error.to_string()}</p> })
    };
    view! {
        <Title text="Sign in" />
        <main class="login">
            <section class="card login-card">
                <h1 class="brand-title">
                    <span class="brand-mark" aria-hidden="true">"+"</span>
                    "Bedside"
                </h1>
                <p class="muted">"Sign in to your clinic."</p>
                <ActionForm action=sign_in>
                    <label class="field">
                        <span>"Email"</span>
                        <input type="email" name="email" autocomplete="username" required />
                    </label>
                    <label class="field">
                        <span>"Password"</span>
                        <input type="password" name="password" autocomplete="current-password" required />
                    </label>
                    {error}
                    <button type="submit" class="button primary wide" disabled=move || sign_in.pending().get()>
                        {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
