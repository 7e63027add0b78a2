//! The visit's chat panel, for the clinician's console and the patient's page alike:
//! messages in the order the server stored them, a box to send one. The panel reads
//! the chat again whenever `refresh` changes (a pushed event, a heartbeat that saw a
//! newer message) and after each send; nothing is kept only in the browser, so a reload
//! shows the same conversation.

use leptos::html::Input;
use leptos::prelude::*;

use crate::api::{SendChat, chat_messages};
use crate::meetings::ParticipantRole;

/// The chat of meeting `meeting_id`.
#[component]
pub fn ChatPanel(meeting_id: String, #[prop(into)] refresh: Signal<u64>) -> impl IntoView {
    let send = ServerAction::<SendChat>::new();
    let id = meeting_id.clone();
    let messages = Resource::new(
        move || (refresh.get(), send.version().get()),
        move |_| chat_messages(id.clone()),
    );
    let input = NodeRef::<Input>::new();
    Effect::new(move |_| {
        if send.value().get().is_some_and(|r| r.is_ok())
            && let Some(input) = input.get()
        {
            input.set_value("");
        }
    });
    let error = move || {
        send.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="banner error" role="alert">{e.to_string()}</p> })
    };
    view! {
        <section class="card chat" aria-label="Chat">
            <h2>"Chat"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading messages…"</p> }>
                {move || Suspend::new(async move {
                    let list = messages.await.unwrap_or_default();
                    view! {
                        <ol class="chat-log" data-testid="chat-log" aria-live="polite">
                            {list.into_iter().map(|m| {
                                let who = match m.sender_role {
                                    ParticipantRole::Clinician => format!("{} (clinician)", m.sender_name),
                                    _ => m.sender_name.clone(),
                                };
                                view! {
                                    <li data-testid="chat-message">
                                        <span class="sender">{who}</span>
                                        <span class="body">{m.body}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }
                })}
            </Transition>
            <ActionForm action=send attr:class="chat-form">
                <input type="hidden" name="meeting_id" value=meeting_id.clone() />
                <input type="text" name="body" maxlength="2000" required node_ref=input
                    aria-label="Message" placeholder="Write a message" data-testid="chat-input" />
                {error}
                <button type="submit" class="button primary" data-testid="chat-send">"Send"</button>
            </ActionForm>
        </section>
    }
}
