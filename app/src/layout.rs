//! The signed-in frame: header with the clinic, navigation and sign-out; pages render in
//! its outlet. Without a session it sends the visitor to the sign-in page.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

use crate::api::{SignOut, get_portal_session};
use crate::call::portal::{CallDock, provide_portal_call};
use crate::error::AppError;
use crate::types::{PortalSession, Role};

/// The portal session, shared with pages below the layout.
pub type SessionResource = Resource<Result<PortalSession, AppError>>;

/// Header, navigation and the current page.
#[component]
pub fn PortalLayout() -> impl IntoView {
    let session: SessionResource = Resource::new(|| (), |_| get_portal_session());
    provide_context(session);
    // The call outlives page changes: it belongs to the layout, not to a page.
    provide_portal_call();
    let sign_out = ServerAction::<SignOut>::new();

    view! {
        <Suspense fallback=|| view! { <div class="loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match session.await {
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
                    Ok(session) => {
                        let role = match session.user.role {
                            Role::Admin => "Admin",
                            Role::Clinician => "Clinician",
                        };
                        view! {
                            <header class="topbar">
                                <A href="/" attr:class="brand">
                                    <span class="brand-mark" aria-hidden="true">"+"</span>
                                    "Bedside"
                                </A>
                                <nav class="mainnav" aria-label="Main">
                                    <A href="/" exact=true>"Today"</A>
                                    <A href="/patients">"Patients"</A>
                                    <A href="/appointments/new" attr:data-testid="nav-new-appointment">"New appointment"</A>
                                </nav>
                                <div class="whoami">
                                    <span class="clinic">{session.workspace_name.clone()}</span>
                                    <span class="user" data-testid="current-user">{session.user.name.clone()}</span>
                                    <span class="role">{role}</span>
                                    <A href="/account" attr:class="account-link" attr:data-testid="nav-account">"Account"</A>
                                    <ActionForm action=sign_out attr:class="signout">
                                        <button type="submit" class="button ghost" data-testid="sign-out">"Sign out"</button>
                                    </ActionForm>
                                </div>
                            </header>
                            <main class="page">
                                <CallDock />
                                <Outlet />
                            </main>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
