//! The patient's page, from the one-tap link `/visit#TOKEN`: no account, no download.
//!
//! This module is the page's markup, rendered by the server. The browser half is the
//! `patient` crate, a small driver on `web-sys` and the media client, not a Leptos
//! hydration. The reason is the patient's download: Leptos's reactive runtime alone is
//! about 160 kB gzip of wasm (a hydrated counter app), and with the media client on
//! top the page weighed 406 kB, twice the 200 kB budget for a phone on a thin link.
//! So the server renders every screen here, each in a `<template>`, and the driver
//! clones the one the visit is at into [`parts::SCREEN`]. Markup, words and
//! accessibility stay in one place, reviewed as HTML; the driver holds only behaviour.
//! The names both sides use are the constants in [`screens`] and [`parts`], so a
//! renamed part fails to compile rather than to render.
//!
//! The screens, in the order a patient meets them:
//! 1. [`screens::LINK`]: who the visit is with and when. Opening the page redeems
//!    nothing (the token sits in the URL fragment, which browsers never send, and link
//!    previews or mail scanners only fetch the page); only **Continue** redeems the link,
//!    into a visit session cookie.
//! 2. [`screens::CHECK`]: camera preview, microphone level, test sound, pickers, the
//!    connection; the page joins the call at once, hidden and without media rights.
//! 3. [`screens::WAITING`], then [`screens::ADMITTED`] (a live grant: media starts with
//!    no page change and no reconnect), or [`screens::REJECTED`]; [`screens::ENDED`].

use leptos::prelude::*;
use leptos_meta::Title;

/// The `data-screen` names of the page's `<template>`s.
pub mod screens {
    /// Who and when, and Continue.
    pub const LINK: &str = "link";
    /// The device and connection check.
    pub const CHECK: &str = "check";
    /// In the waiting room.
    pub const WAITING: &str = "waiting";
    /// Admitted: in the call.
    pub const ADMITTED: &str = "admitted";
    /// Turned away.
    pub const REJECTED: &str = "rejected";
    /// The visit moved to another device or tab.
    pub const REPLACED: &str = "replaced";
    /// The visit is over.
    pub const ENDED: &str = "ended";
    /// The call: remote video, self view, controls.
    pub const STAGE: &str = "stage";
    /// The chat with the clinic.
    pub const CHAT: &str = "chat";
}

/// The `data-part` names the driver fills or listens to.
pub mod parts {
    /// Where the current screen goes.
    pub const SCREEN: &str = "screen";
    /// Where the call and the chat go, below the screen.
    pub const EXTRAS: &str = "extras";
    /// "Hi Ann."
    pub const GREETING: &str = "greeting";
    /// Who and when.
    pub const DETAILS: &str = "details";
    /// The Continue button.
    pub const CONTINUE: &str = "continue";
    /// The camera preview `<video>`.
    pub const PREVIEW: &str = "preview";
    /// The microphone `<meter>`.
    pub const METER: &str = "meter";
    /// The camera `<select>`.
    pub const CAMERA_PICKER: &str = "camera-picker";
    /// The microphone `<select>`.
    pub const MIC_PICKER: &str = "mic-picker";
    /// The test sound button.
    pub const TEST_SOUND: &str = "test-sound";
    /// What to do after the test sound.
    pub const SOUND_HINT: &str = "sound-hint";
    /// The connection line.
    pub const CONNECTION: &str = "connection";
    /// The path video takes.
    pub const VIDEO_PATH: &str = "video-path";
    /// Join the waiting room.
    pub const JOIN: &str = "join";
    /// The clinician's reason, on the rejected screen.
    pub const REASON: &str = "reason";
    /// The call's state words.
    pub const CALL_STATE: &str = "call-state";
    /// The connection quality.
    pub const CALL_QUALITY: &str = "call-quality";
    /// The remote tiles and the self view.
    pub const TILES: &str = "tiles";
    /// The self view `<video>`.
    pub const SELF_VIDEO: &str = "self-video";
    /// The call's buttons.
    pub const CONTROLS: &str = "controls";
    /// Mute / unmute.
    pub const MIC: &str = "mic";
    /// Camera off / on.
    pub const CAMERA: &str = "camera";
    /// Share the screen.
    pub const SHARE: &str = "share";
    /// Leave the call.
    pub const LEAVE: &str = "leave";
    /// The chat's messages.
    pub const CHAT_LOG: &str = "chat-log";
    /// The chat's form.
    pub const CHAT_FORM: &str = "chat-form";
    /// The chat's input.
    pub const CHAT_INPUT: &str = "chat-input";
}

/// The visit page: the card, "Opening your visit…" until the driver has read the link,
/// and every screen as a template.
#[component]
pub fn VisitPage() -> impl IntoView {
    view! {
        <Title text="Your video visit" />
        <main class="login visit">
            <section class="card login-card" aria-live="polite">
                <h1 class="brand-title">
                    <span class="brand-mark" aria-hidden="true">"+"</span>
                    "Bedside"
                </h1>
                <div data-part=parts::SCREEN>
                    <p class="muted">"Opening your visit…"</p>
                    <noscript>
                        <p class="banner error">"This page needs JavaScript for the video call. Please turn it on, or open the link in another browser."</p>
                    </noscript>
                </div>
                <div data-part=parts::EXTRAS></div>
            </section>
        </main>
        <LinkScreen />
        <CheckScreen />
        <template data-screen=screens::WAITING>
            <div>
                <p data-testid="visit-waiting">"You're in the waiting room."</p>
                <p class="muted">"Your clinician will admit you. You can keep this page open; if you reload it, you keep your place."</p>
            </div>
        </template>
        <template data-screen=screens::ADMITTED>
            <p class="banner success" role="status" data-testid="visit-admitted">
                "You're admitted. Your clinician is ready for you."
            </p>
        </template>
        <template data-screen=screens::REJECTED>
            <div>
                <p data-testid="visit-rejected">"The clinic has closed this visit for you."</p>
                <p class="muted" data-testid="visit-rejection-reason" data-part=parts::REASON></p>
                <p class="muted">"If this is unexpected, please call your clinic."</p>
            </div>
        </template>
        <template data-screen=screens::REPLACED>
            <div>
                <p data-testid="visit-replaced">"You opened this visit on another device or tab; it continues there."</p>
                <p class="muted">"To use this one instead, open your link here again."</p>
            </div>
        </template>
        <template data-screen=screens::ENDED>
            <div>
                <p data-testid="visit-ended">"This visit has ended. Thank you."</p>
                <p class="muted">"You can close this page."</p>
            </div>
        </template>
        <StageScreen />
        <ChatScreen />
    }
}

#[component]
fn LinkScreen() -> impl IntoView {
    view! {
        <template data-screen=screens::LINK>
            <div>
                <p data-part=parts::GREETING></p>
                <p data-testid="visit-details" data-part=parts::DETAILS></p>
                <p class="muted">"No account or download needed. Continue when you are ready; your clinician will let you in."</p>
                <button type="button" class="button primary wide" data-testid="visit-continue" data-part=parts::CONTINUE>
                    "Continue to your visit"
                </button>
            </div>
        </template>
    }
}

#[component]
fn CheckScreen() -> impl IntoView {
    view! {
        <template data-screen=screens::CHECK>
            <section class="device-check" data-testid="device-check" aria-labelledby="device-check-title">
                <h2 id="device-check-title">"Check your camera and sound"</h2>
                <video class="device-preview" data-testid="device-preview" data-part=parts::PREVIEW autoplay playsinline muted aria-label="Your camera preview"></video>
                <label class="field">
                    <span>"Microphone level (speak to test)"</span>
                    <meter data-testid="mic-level" data-part=parts::METER min="0" max="100" low="5" optimum="50" value="0"></meter>
                </label>
                <div class="device-pickers">
                    <label class="field">
                        <span>"Camera"</span>
                        <select data-testid="camera-picker" data-part=parts::CAMERA_PICKER></select>
                    </label>
                    <label class="field">
                        <span>"Microphone"</span>
                        <select data-testid="mic-picker" data-part=parts::MIC_PICKER></select>
                    </label>
                </div>
                <p>
                    <button type="button" class="button ghost" data-part=parts::TEST_SOUND>"Play a test sound"</button>
                    <span data-part=parts::SOUND_HINT></span>
                </p>
                <p data-testid="check-connection" role="status" data-part=parts::CONNECTION>"Checking your connection…"</p>
                <p data-testid="check-video" role="status" data-part=parts::VIDEO_PATH>"Connecting to the clinic's video service…"</p>
                <button type="button" class="button primary wide" data-testid="join-waiting" data-part=parts::JOIN>
                    "Join the waiting room"
                </button>
            </section>
        </template>
    }
}

#[component]
fn StageScreen() -> impl IntoView {
    view! {
        <template data-screen=screens::STAGE>
            <section class="call-stage" aria-label="Call" data-state="Idle">
                <p class="call-state" role="status" aria-live="polite">
                    <span data-part=parts::CALL_STATE>"Not connected"</span>
                    <span class="call-quality" data-testid="call-quality" data-part=parts::CALL_QUALITY></span>
                </p>
                <div class="call-tiles" data-part=parts::TILES>
                    <figure class="call-tile self-view" data-identity="me">
                        <video data-part=parts::SELF_VIDEO autoplay playsinline muted aria-label="Your camera"></video>
                        <figcaption>"You"</figcaption>
                    </figure>
                </div>
                <div class="call-controls" role="toolbar" aria-label="Call controls" data-part=parts::CONTROLS hidden>
                    <button type="button" data-testid="call-mic" aria-keyshortcuts="Alt+M" data-part=parts::MIC>"Mute"</button>
                    <button type="button" data-testid="call-camera" aria-keyshortcuts="Alt+V" data-part=parts::CAMERA>"Stop video"</button>
                    <button type="button" data-part=parts::SHARE>"Share screen"</button>
                    <button type="button" class="danger" data-part=parts::LEAVE>"Leave"</button>
                </div>
            </section>
        </template>
    }
}

#[component]
fn ChatScreen() -> impl IntoView {
    view! {
        <template data-screen=screens::CHAT>
            <section class="card chat" aria-label="Chat">
                <h2>"Chat"</h2>
                <ol class="chat-log" data-testid="chat-log" aria-live="polite" data-part=parts::CHAT_LOG></ol>
                <form class="chat-form" data-part=parts::CHAT_FORM>
                    <input type="text" name="body" maxlength="2000" required aria-label="Message"
                        placeholder="Write a message" data-testid="chat-input" data-part=parts::CHAT_INPUT />
                    <button type="submit" class="button primary" data-testid="chat-send">"Send"</button>
                </form>
            </section>
        </template>
    }
}
