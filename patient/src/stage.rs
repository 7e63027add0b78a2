//! The call on the patient's screen: the state line (a live region, so "Reconnecting…"
//! is announced), remote tiles (a `<video>` or `<audio>` per track), the self view and
//! the controls. The same markup and attributes as the portal's call stage, so one set
//! of browser tests reads both.

use app::call::CallState;
use app::pages::visit::parts;
use bedside_client::{Quality, TrackKind};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlMediaElement};

use crate::call::Call;
use crate::dom::{Listener, element, on, part, set_attr, set_text, show};

/// What makes a tile: when any of it changes the tile is drawn anew.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TileKey {
    sid: String,
    identity: String,
    name: String,
    source: String,
    video: bool,
    muted: bool,
    paused: bool,
    ready: bool,
}

/// The mounted stage.
pub struct Stage {
    root: Element,
    tiles: Element,
    self_figure: Element,
    self_video: Element,
    self_showing: bool,
    shown: Vec<(TileKey, Element)>,
    error: Option<Element>,
    _listeners: Vec<Listener>,
}

impl Stage {
    /// Wires the stage copied into `root` to `call`'s actions.
    pub fn new(root: Element, call: &Call) -> Self {
        let button = |name: &str, action: fn(&Call)| {
            let call = call.clone();
            on(&part(&root, name), "click", move |_| action(&call))
        };
        let listeners = vec![
            button(parts::MIC, Call::toggle_mic),
            button(parts::CAMERA, Call::toggle_camera),
            button(parts::SHARE, Call::toggle_screen),
            button(parts::LEAVE, Call::leave),
        ];
        let self_video = part(&root, parts::SELF_VIDEO);
        let self_figure = self_video
            .parent_element()
            .unwrap_or_else(|| element("figure"));
        Self {
            tiles: part(&root, parts::TILES),
            root,
            self_figure,
            self_video,
            self_showing: false,
            shown: Vec::new(),
            error: None,
            _listeners: listeners,
        }
    }

    /// Brings the screen in line with `call`.
    pub fn render(&mut self, call: &Call) {
        let state = call.state();
        set_attr(&self.root, "data-state", &format!("{state:?}"));
        set_text(&part(&self.root, parts::CALL_STATE), &state.label());
        let quality = part(&self.root, parts::CALL_QUALITY);
        let level = call.quality().map_or("", Quality::word);
        set_attr(&quality, "data-quality", level);
        let words = if level.is_empty() {
            String::new()
        } else {
            format!(" · connection {level}")
        };
        set_text(&quality, &words);
        self.render_error(call.error());
        self.render_tiles(call);
        self.render_self(call);
        let (mic_on, camera_on, sharing) = call.local();
        let connected = matches!(state, CallState::Connected | CallState::Reconnecting);
        show(&part(&self.root, parts::CONTROLS), connected);
        let mic = part(&self.root, parts::MIC);
        set_text(&mic, if mic_on { "Mute" } else { "Unmute" });
        set_attr(&mic, "aria-pressed", if mic_on { "false" } else { "true" });
        let camera = part(&self.root, parts::CAMERA);
        set_text(
            &camera,
            if camera_on {
                "Stop video"
            } else {
                "Start video"
            },
        );
        set_attr(
            &camera,
            "aria-pressed",
            if camera_on { "false" } else { "true" },
        );
        set_text(
            &part(&self.root, parts::SHARE),
            if sharing {
                "Stop sharing"
            } else {
                "Share screen"
            },
        );
    }

    fn render_error(&mut self, error: Option<String>) {
        match (&self.error, error) {
            (Some(shown), Some(text)) => set_text(shown, &text),
            (None, Some(text)) => {
                let line = element("p");
                line.set_class_name("error");
                let _ = line.set_attribute("role", "alert");
                line.set_text_content(Some(&text));
                let _ = self.root.insert_before(&line, Some(&self.tiles));
                self.error = Some(line);
            }
            (Some(shown), None) => {
                shown.remove();
                self.error = None;
            }
            (None, None) => {}
        }
    }

    fn render_tiles(&mut self, call: &Call) {
        let Some(room) = call.room() else { return };
        let wanted: Vec<TileKey> = room
            .participants()
            .into_iter()
            .flat_map(|p| {
                p.tracks.into_iter().map(move |t| TileKey {
                    sid: t.sid,
                    identity: p.identity.clone(),
                    name: p.name.clone(),
                    source: t.source.as_str_name().to_ascii_lowercase(),
                    video: t.kind == TrackKind::Video,
                    muted: t.muted,
                    paused: t.paused,
                    ready: t.media.is_some(),
                })
            })
            .collect();
        // Tiles whose track left or changed go; the room stops watching them.
        self.shown.retain(|(key, tile)| {
            let keep = wanted.contains(key);
            if !keep {
                room.detach(&key.sid);
                tile.remove();
            }
            keep
        });
        for key in wanted {
            if self.shown.iter().any(|(shown, _)| *shown == key) {
                continue;
            }
            let tile = tile(&key);
            let _ = self.tiles.insert_before(&tile, Some(&self.self_figure));
            if key.ready {
                let media = if key.video {
                    tile.query_selector("video").ok().flatten()
                } else {
                    Some(tile.clone())
                };
                if let Some(media) = media.and_then(|m| m.dyn_into::<HtmlMediaElement>().ok()) {
                    room.attach(&key.sid, &media);
                }
            }
            self.shown.push((key, tile));
        }
        let people = room.participants();
        for (key, tile) in &self.shown {
            set_attr(
                tile,
                "data-received",
                &call.received_bytes(&key.sid).to_string(),
            );
            if key.video
                && let Some(person) = people.iter().find(|p| p.identity == key.identity)
            {
                let link = person.connection_quality.map_or("", Quality::word);
                set_attr(tile, "data-link", link);
                set_attr(tile, "data-speaking", &person.speaking.to_string());
                show_link_note(tile, app::call::peer_link_note(&key.name, link));
            }
        }
    }

    fn render_self(&mut self, call: &Call) {
        let (_, camera_on, _) = call.local();
        let Some(track) = call.camera_media() else {
            return;
        };
        if self.self_showing || !camera_on {
            return;
        }
        if let Some(video) = self.self_video.dyn_ref::<HtmlMediaElement>() {
            bedside_client::media::show(video, &track);
            self.self_showing = true;
        }
    }
}

/// Puts `words` on a video tile as its connection note, or takes the note away.
fn show_link_note(tile: &Element, words: Option<String>) {
    let note = tile
        .query_selector("[data-testid=peer-link-note]")
        .ok()
        .flatten();
    match (note, words) {
        (Some(note), Some(words)) => set_text(&note, &words),
        (Some(note), None) => note.remove(),
        (None, Some(words)) => {
            let note = element("p");
            note.set_class_name("call-link-note");
            let _ = note.set_attribute("role", "status");
            let _ = note.set_attribute("data-testid", "peer-link-note");
            note.set_text_content(Some(&words));
            let _ = tile.append_child(&note);
        }
        (None, None) => {}
    }
}

/// One remote track's element: a captioned `<video>`, or an `<audio>`.
fn tile(key: &TileKey) -> Element {
    let label = format!("{} ({})", key.name, key.source.replace('_', " "));
    let mark = |el: &Element| {
        let _ = el.set_attribute("data-identity", &key.identity);
        let _ = el.set_attribute("data-muted", &key.muted.to_string());
    };
    if !key.video {
        let audio = element("audio");
        mark(&audio);
        let _ = audio.set_attribute("autoplay", "");
        let _ = audio.set_attribute("data-track-sid", &key.sid);
        return audio;
    }
    let figure = element("figure");
    figure.set_class_name("call-tile");
    mark(&figure);
    let _ = figure.set_attribute("data-source", &key.source);
    let _ = figure.set_attribute("data-paused", &key.paused.to_string());
    let video = element("video");
    for attribute in ["autoplay", "playsinline", "muted"] {
        let _ = video.set_attribute(attribute, "");
    }
    if let Some(media) = video.dyn_ref::<HtmlMediaElement>() {
        media.set_muted(true);
    }
    let _ = video.set_attribute("data-track-sid", &key.sid);
    let _ = video.set_attribute("aria-label", &label);
    let _ = figure.append_child(&video);
    if key.paused {
        let note = element("p");
        note.set_class_name("call-paused");
        let _ = note.set_attribute("role", "status");
        let _ = note.set_attribute("data-testid", "video-paused");
        note.set_text_content(Some(
            "Video paused: the connection is too slow right now. Sound continues, and the video comes back by itself.",
        ));
        let _ = figure.append_child(&note);
    }
    let caption = element("figcaption");
    let muted = if key.muted { " · camera off" } else { "" };
    caption.set_text_content(Some(&format!("{label}{muted}")));
    let _ = figure.append_child(&caption);
    figure
}
