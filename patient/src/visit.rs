//! The visit's course on the patient's page: read the link, Continue, the check, the
//! waiting room's heartbeat, admission, the end. [`Visit::update`] is the one place
//! that turns what is known into what is on screen: it mounts a screen only when the
//! screen changes, so a heartbeat that changes nothing (every few seconds) leaves the
//! device check's preview and meter alone.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use app::meetings::{MeetingStatus, ParticipantState};
use app::pages::visit::{parts, screens};
use web_sys::Element;

use crate::call::Call;
use crate::chat::Chat;
use crate::check::Check;
use crate::dom::{Every, Listener, error_banner, every, mount, on, page_part, part, set_text};
use crate::http::{self, ApiError};
use crate::stage::Stage;
use crate::wire::{LinkInfo, VisitStatus};

/// How often the waiting page says it is still there (the server's presence TTL is 30 s).
const HEARTBEAT_MS: i32 = 5_000;

/// The link's token travels in a POST body, never in a URL.
#[derive(serde::Serialize)]
struct LinkToken<'a> {
    link_token: &'a str,
}

/// Reads the link in the URL fragment and runs the visit.
pub async fn run() {
    let screen = page_part(parts::SCREEN);
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let token = hash.trim_start_matches('#').to_owned();
    let info = if token.is_empty() {
        Err(ApiError {
            status: 400,
            message: "This link is not valid. It may have expired; ask your clinic for a new one."
                .into(),
        })
    } else {
        http::post::<LinkInfo>(
            "/api/v1/meetings/verify-token",
            &LinkToken { link_token: &token },
        )
        .await
    };
    let info = match info {
        Ok(info) => info,
        Err(error) => {
            screen.set_inner_html("");
            let _ = screen.append_child(&error_banner(&error.message, "visit-error"));
            return;
        }
    };
    // Back after a reload: a live visit session for this meeting skips Continue.
    let resumed = http::post::<VisitStatus>("/api/v1/calls/heartbeat", &())
        .await
        .ok()
        .filter(|now| now.meeting_id == info.meeting_id);
    let visit = Rc::new(RefCell::new(Visit {
        token,
        meeting_id: info.meeting_id.clone(),
        ended_at_open: info.status == MeetingStatus::Ended,
        info,
        resumed: resumed.is_some(),
        status: resumed,
        joined: false,
        joining: false,
        join_error: None,
        checked: false,
        check_connected: false,
        replaced: false,
        call: Call::default(),
        shown: None,
        screen_root: screen,
        extras: page_part(parts::EXTRAS),
        mounted: None,
        stage_shown: false,
        chat: None,
        chat_seen: None,
        heartbeat: None,
        left: false,
    }));
    Visit::update(&visit);
    // The visit lives as long as the page; everything else holds it weakly.
    std::mem::forget(visit);
}

/// The screens of the patient's page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Link,
    Check,
    Waiting,
    Admitted,
    Rejected(Option<String>),
    Replaced,
    Ended,
}

/// What lives as long as the current screen (dropped with it).
#[derive(Default)]
struct Mounted {
    _continue: Option<Listener>,
    _check: Option<Check>,
}

struct Visit {
    token: String,
    meeting_id: String,
    info: LinkInfo,
    ended_at_open: bool,
    /// A live visit session was found on load.
    resumed: bool,
    /// Continue redeemed the link.
    joined: bool,
    joining: bool,
    join_error: Option<String>,
    /// Past the device check.
    checked: bool,
    check_connected: bool,
    /// The link was opened again elsewhere: that device has the visit now.
    replaced: bool,
    status: Option<VisitStatus>,
    call: Call,
    shown: Option<Phase>,
    screen_root: Element,
    extras: Element,
    mounted: Option<Mounted>,
    stage_shown: bool,
    chat: Option<Chat>,
    chat_seen: Option<Option<i64>>,
    heartbeat: Option<Every>,
    left: bool,
}

type Shared = Rc<RefCell<Visit>>;

impl Visit {
    fn in_line(&self) -> bool {
        self.resumed || self.joined
    }

    fn phase(&self) -> Phase {
        let status = self.status.as_ref();
        if self.ended_at_open {
            return Phase::Ended;
        }
        if !self.in_line() {
            return Phase::Link;
        }
        if self.replaced {
            return Phase::Replaced;
        }
        match status {
            Some(s) if s.meeting_status == MeetingStatus::Ended => Phase::Ended,
            Some(s) if s.state == ParticipantState::Rejected => {
                Phase::Rejected(s.rejection_reason.clone())
            }
            _ if !self.checked => Phase::Check,
            Some(s)
                if matches!(
                    s.state,
                    ParticipantState::Admitted | ParticipantState::InCall
                ) =>
            {
                Phase::Admitted
            }
            _ => Phase::Waiting,
        }
    }

    /// Still in the visit: neither ended, turned away nor moved elsewhere.
    fn open(&self) -> bool {
        self.in_line()
            && !self.replaced
            && self.status.as_ref().is_some_and(|s| {
                s.meeting_status != MeetingStatus::Ended && s.state != ParticipantState::Rejected
            })
    }

    /// Brings the page in line with what is known.
    fn update(shared: &Shared) {
        let mut visit = shared.borrow_mut();
        if visit.in_line() && visit.heartbeat.is_none() {
            let weak = Rc::downgrade(shared);
            visit.heartbeat = Some(every(HEARTBEAT_MS, move || beat(weak.clone())));
            if !visit.resumed {
                beat(Rc::downgrade(shared));
            }
        }
        // The check proves the path to the media server by joining at once, hidden.
        if visit.joined && !visit.checked && !visit.check_connected {
            visit.check_connected = true;
            visit.call.join(&visit.meeting_id, false);
        }
        // Back after a reload: straight into the call.
        if visit.resumed && !visit.checked {
            visit.checked = true;
            visit.call.join(&visit.meeting_id, true);
        }
        let over = (visit.in_line() && !visit.open() && visit.status.is_some()) || visit.replaced;
        if over && !visit.left {
            visit.left = true;
            visit.call.leave();
        }
        let phase = visit.phase();
        if visit.shown.as_ref() != Some(&phase) {
            visit.mounted = None;
            visit.screen_root.set_inner_html("");
            visit.mounted = Some(visit.mount(shared, &phase));
            visit.shown = Some(phase);
        }
        let open = visit.open();
        if visit.checked && open && !visit.stage_shown {
            visit.stage_shown = true;
            let root = mount(screens::STAGE, &visit.extras);
            let _ = visit
                .extras
                .insert_before(&root, visit.extras.first_child().as_ref());
            let stage = Stage::new(root, &visit.call);
            visit.call.show(stage);
        }
        if open && visit.chat.is_none() {
            let root = mount(screens::CHAT, &visit.extras);
            visit.chat = Some(Chat::start(root, visit.meeting_id.clone()));
            visit.chat_seen = Some(visit.status.as_ref().and_then(|s| s.last_message_id));
        }
        let latest = visit.status.as_ref().and_then(|s| s.last_message_id);
        if visit.chat.is_some() && visit.chat_seen != Some(latest) {
            visit.chat_seen = Some(latest);
            if let Some(chat) = &visit.chat {
                chat.reload();
            }
        }
        if !open && (visit.chat.is_some() || visit.stage_shown) {
            visit.chat = None;
            visit.stage_shown = false;
            visit.extras.set_inner_html("");
        }
    }

    fn mount(&self, shared: &Shared, phase: &Phase) -> Mounted {
        let name = match phase {
            Phase::Link => screens::LINK,
            Phase::Check => screens::CHECK,
            Phase::Waiting => screens::WAITING,
            Phase::Admitted => screens::ADMITTED,
            Phase::Rejected(_) => screens::REJECTED,
            Phase::Replaced => screens::REPLACED,
            Phase::Ended => screens::ENDED,
        };
        let root = mount(name, &self.screen_root);
        match phase {
            Phase::Link => {
                set_text(
                    &part(&root, parts::GREETING),
                    &format!("Hi {}.", self.info.first_name),
                );
                let details = format!(
                    "Your video visit with {} is on {}.",
                    self.info.clinician_name, self.info.when
                );
                set_text(&part(&root, parts::DETAILS), &details);
                let weak = Rc::downgrade(shared);
                let redeem_on_click = on(&part(&root, parts::CONTINUE), "click", move |_| {
                    redeem(weak.clone())
                });
                Mounted {
                    _continue: Some(redeem_on_click),
                    ..Mounted::default()
                }
            }
            Phase::Check => {
                let weak = Rc::downgrade(shared);
                Mounted {
                    _check: Some(Check::start(root, &self.call, move || past_check(&weak))),
                    ..Mounted::default()
                }
            }
            Phase::Rejected(reason) => {
                let line = part(&root, parts::REASON);
                match reason {
                    Some(reason) => set_text(&line, reason),
                    None => line.remove(),
                }
                Mounted::default()
            }
            _ => Mounted::default(),
        }
    }
}

/// Continue: redeems the link into the visit session and the waiting room.
fn redeem(weak: Weak<RefCell<Visit>>) {
    let Some(shared) = weak.upgrade() else { return };
    let token = {
        let mut visit = shared.borrow_mut();
        if visit.joining {
            return;
        }
        visit.joining = true;
        visit.token.clone()
    };
    let button = part(&shared.borrow().screen_root, parts::CONTINUE);
    let _ = button.set_attribute("disabled", "");
    set_text(&button, "Joining…");
    wasm_bindgen_futures::spawn_local(async move {
        let redeemed = http::post::<serde::de::IgnoredAny>(
            "/api/v1/calls/generate-token",
            &LinkToken { link_token: &token },
        )
        .await;
        {
            let mut visit = shared.borrow_mut();
            visit.joining = false;
            match redeemed {
                Ok(_) => visit.joined = true,
                Err(error) => visit.join_error = Some(error.message),
            }
        }
        let error = shared.borrow_mut().join_error.take();
        if let Some(message) = error {
            let _ = button.remove_attribute("disabled");
            set_text(&button, "Continue to your visit");
            let banner = error_banner(&message, "visit-error");
            let _ = button.before_with_node_1(&banner);
            return;
        }
        Visit::update(&shared);
    });
}

/// Join the waiting room: the checked devices go into the call the check connected (or,
/// if that connection failed, a new one).
fn past_check(weak: &Weak<RefCell<Visit>>) {
    let Some(shared) = weak.upgrade() else { return };
    {
        let mut visit = shared.borrow_mut();
        visit.checked = true;
        let connected = matches!(
            visit.call.state(),
            app::call::CallState::Connecting
                | app::call::CallState::Connected
                | app::call::CallState::Reconnecting
        );
        if connected {
            visit.call.publish_prepared();
        } else {
            visit.call.join(&visit.meeting_id, true);
        }
    }
    // After the click's handler returns: updating unmounts the check, whose listener
    // this is.
    let later = Rc::downgrade(&shared);
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(shared) = later.upgrade() {
            Visit::update(&shared);
        }
    });
}

/// One heartbeat: keeps the patient's place and learns where the visit stands.
fn beat(weak: Weak<RefCell<Visit>>) {
    wasm_bindgen_futures::spawn_local(async move {
        let now = http::post::<VisitStatus>("/api/v1/calls/heartbeat", &()).await;
        let Some(shared) = weak.upgrade() else { return };
        {
            let mut visit = shared.borrow_mut();
            match now {
                Ok(now) => visit.status = Some(now),
                Err(error) if error.status == 401 => visit.replaced = true,
                Err(_) => return,
            }
        }
        Visit::update(&shared);
    });
}
