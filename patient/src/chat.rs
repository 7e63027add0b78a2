//! The chat with the clinic: messages in the order the server stored them
//! (`/api/v1/meetings/{id}/messages`), and a box to send one. The log is read again
//! when the heartbeat sees a newer message and after each send; nothing is kept only
//! in the browser, so a reload shows the same conversation.

use std::cell::RefCell;
use std::rc::Rc;

use app::meetings::ParticipantRole;
use app::pages::visit::parts;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlInputElement};

use crate::dom::{Listener, element, error_banner, on, part};
use crate::http;
use crate::wire::ChatMessage;

/// The mounted chat.
pub struct Chat(Rc<Inner>);

struct Inner {
    root: Element,
    meeting_id: String,
    error: RefCell<Option<Element>>,
    listener: RefCell<Option<Listener>>,
}

#[derive(serde::Serialize)]
struct NewMessage {
    body: String,
}

impl Chat {
    /// Wires the chat copied into `root` to meeting `meeting_id`, and reads it.
    pub fn start(root: Element, meeting_id: String) -> Self {
        let inner = Rc::new(Inner {
            root,
            meeting_id,
            error: RefCell::default(),
            listener: RefCell::default(),
        });
        let weak = Rc::downgrade(&inner);
        let form = part(&inner.root, parts::CHAT_FORM);
        inner
            .listener
            .replace(Some(on(&form, "submit", move |event| {
                event.prevent_default();
                if let Some(inner) = weak.upgrade() {
                    inner.send();
                }
            })));
        let chat = Self(inner);
        chat.reload();
        chat
    }

    /// Reads the conversation again.
    pub fn reload(&self) {
        self.0.clone().reload();
    }
}

impl Inner {
    fn messages_path(&self) -> String {
        format!("/api/v1/meetings/{}/messages", self.meeting_id)
    }

    fn reload(self: Rc<Self>) {
        spawn_local(async move {
            let Ok(messages) = http::get::<Vec<ChatMessage>>(&self.messages_path()).await else {
                return;
            };
            let log = part(&self.root, parts::CHAT_LOG);
            log.set_inner_html("");
            for message in messages {
                let _ = log.append_child(&line(&message));
            }
        });
    }

    fn send(self: &Rc<Self>) {
        let Ok(input) = part(&self.root, parts::CHAT_INPUT).dyn_into::<HtmlInputElement>() else {
            return;
        };
        let body = input.value();
        if body.trim().is_empty() {
            return;
        }
        let inner = self.clone();
        spawn_local(async move {
            let sent =
                http::post::<ChatMessage>(&inner.messages_path(), &NewMessage { body }).await;
            if let Some(old) = inner.error.take() {
                old.remove();
            }
            match sent {
                Ok(_) => {
                    input.set_value("");
                    inner.reload();
                }
                Err(error) => {
                    let banner = error_banner(&error.message, "chat-error");
                    let _ = input.after_with_node_1(&banner);
                    inner.error.replace(Some(banner));
                }
            }
        });
    }
}

/// One message: who (with the clinician marked) and what.
fn line(message: &ChatMessage) -> Element {
    let who = match message.sender_role {
        ParticipantRole::Clinician => format!("{} (clinician)", message.sender_name),
        _ => message.sender_name.clone(),
    };
    let item = element("li");
    let _ = item.set_attribute("data-testid", "chat-message");
    for (class, text) in [("sender", who.as_str()), ("body", message.body.as_str())] {
        let span = element("span");
        span.set_class_name(class);
        span.set_text_content(Some(text));
        let _ = item.append_child(&span);
    }
    item
}
