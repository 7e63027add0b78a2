//! The call on screen: remote tiles (video and audio), the self view, the state line
//! (a live region: "Reconnecting…" is announced), and the controls.

use leptos::html;
use leptos::prelude::*;

use super::{CallHandle, CallState, Tile};

/// Remote tiles, self view and controls of `call`.
#[component]
pub fn CallStage(call: CallHandle) -> impl IntoView {
    let connected = move || {
        call.state
            .with(|s| matches!(s, CallState::Connected | CallState::Reconnecting))
    };
    view! {
        <section class="call-stage" aria-label="Call" data-state=move || format!("{:?}", call.state.get()) data-mode=move || call.mode.get()>
            <p class="call-state" role="status" aria-live="polite">
                {move || call.state.with(CallState::label)}
                <span class="call-quality" data-testid="call-quality" data-quality=move || call.quality.get()>
                    {move || call.quality.with(|q| (!q.is_empty()).then(|| format!(" · connection {q}")))}
                </span>
            </p>
            {move || call.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="call-tiles">
                <For
                    each=move || call.tiles.get()
                    key=|tile| (tile.track_sid.clone(), tile.ready, tile.muted, tile.paused)
                    children=move |tile| view! { <RemoteTile call tile /> }
                />
                <SelfView call />
            </div>
            <Show when=connected>
                <div class="call-controls" role="toolbar" aria-label="Call controls">
                    <button type="button" data-testid="call-mic" aria-keyshortcuts="Alt+M" aria-pressed=move || (!call.local.with(|l| l.mic_on)).to_string() on:click=move |_| call.toggle_mic()>
                        {move || if call.local.with(|l| l.mic_on) { "Mute" } else { "Unmute" }}
                    </button>
                    <button type="button" data-testid="call-camera" aria-keyshortcuts="Alt+V" aria-pressed=move || (!call.local.with(|l| l.camera_on)).to_string() on:click=move |_| call.toggle_camera()>
                        {move || if call.local.with(|l| l.camera_on) { "Stop video" } else { "Start video" }}
                    </button>
                    <button type="button" on:click=move |_| call.toggle_screen()>
                        {move || if call.local.with(|l| l.sharing) { "Stop sharing" } else { "Share screen" }}
                    </button>
                    <super::devices::DeviceMenu call />
                    <button type="button" class="danger" on:click=move |_| call.leave()>"Leave"</button>
                </div>
            </Show>
        </section>
    }
}

/// One remote track: a `<video>` for video, an `<audio>` for audio.
#[component]
fn RemoteTile(call: CallHandle, tile: Tile) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = call;
    let label = format!("{} ({})", tile.name, tile.source.replace('_', " "));
    let sid = tile.track_sid.clone();
    // Bytes received so far: tests read it, and it is cheap.
    let received = move || call.received_bytes(&sid).to_string();
    let identity = tile.identity.clone();
    let link = move || call.peer(&identity).link;
    let link_note = link.clone();
    let identity = tile.identity.clone();
    let speaking = move || call.peer(&identity).speaking.to_string();
    if tile.video {
        let node = NodeRef::<html::Video>::new();
        #[cfg(feature = "hydrate")]
        attach_when_mounted(
            call,
            move || node.get().map(Into::into),
            tile.track_sid.clone(),
            tile.ready,
        );
        view! {
            <figure class="call-tile" data-identity=tile.identity.clone() data-source=tile.source.clone() data-muted=tile.muted.to_string() data-paused=tile.paused.to_string() data-received=received data-link=link data-speaking=speaking>
                <video node_ref=node autoplay playsinline muted data-track-sid=tile.track_sid.clone() aria-label=label.clone()></video>
                <PeerLinkNote name=tile.name.clone() link=link_note />
                {tile.paused.then(|| view! {
                    <p class="call-paused" role="status" data-testid="video-paused">
                        "Video paused: the connection is too slow right now. Sound continues, and the video comes back by itself."
                    </p>
                })}
                <figcaption>{label}{tile.muted.then_some(" · camera off")}</figcaption>
            </figure>
        }
        .into_any()
    } else {
        let node = NodeRef::<html::Audio>::new();
        #[cfg(feature = "hydrate")]
        attach_when_mounted(
            call,
            move || node.get().map(Into::into),
            tile.track_sid.clone(),
            tile.ready,
        );
        view! {
            <audio node_ref=node autoplay data-identity=tile.identity.clone() data-track-sid=tile.track_sid.clone() data-muted=tile.muted.to_string() data-received=received></audio>
        }
        .into_any()
    }
}

/// What a remote participant's weak or lost connection means for the call, on their
/// video tile (announced politely: it is news, not an alarm). Nothing while it is good.
#[component]
fn PeerLinkNote(name: String, link: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    move || {
        super::peer_link_note(&name, &link()).map(|words| {
            view! { <p class="call-link-note" role="status" data-testid="peer-link-note">{words}</p> }
        })
    }
}

/// Attaches the track once the element exists and its media arrived.
#[cfg(feature = "hydrate")]
fn attach_when_mounted(
    call: CallHandle,
    element: impl Fn() -> Option<web_sys::HtmlMediaElement> + 'static,
    sid: String,
    ready: bool,
) {
    let watched = sid.clone();
    Effect::new(move |_| {
        if let Some(element) = element()
            && ready
        {
            call.attach(&sid, &element);
        }
    });
    on_cleanup(move || call.detach(&watched));
}

/// Our camera, mirrored, muted.
#[component]
fn SelfView(call: CallHandle) -> impl IntoView {
    let node = NodeRef::<html::Video>::new();
    #[cfg(not(feature = "hydrate"))]
    let _ = call;
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let published = call.local.with(|l| l.camera_published || l.camera_on);
        if let (Some(video), true) = (node.get(), published)
            && let Some(track) = call.camera_media()
        {
            bedside_client::media::show(&video, &track);
        }
    });
    view! {
        <figure class="call-tile self-view" data-identity="me">
            <video node_ref=node autoplay playsinline muted aria-label="Your camera"></video>
            <figcaption>"You"</figcaption>
        </figure>
    }
}
