//! Local tracks: announcing (`AddTrackRequest` → `TrackPublishedResponse`), sending
//! with simulcast, mute, device switch, unpublish, dynacast, and following the grant
//! live: a track the user asked for is kept as a wish and published whenever the grant
//! allows it (an admitted patient starts sending without reconnecting), taken down when
//! it is revoked, and published again on a later grant or a rejoin.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bedside_signal::ConnectMode;
use bedside_signal::proto;
use futures_channel::oneshot;
use futures_util::future::{Either, select};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamTrack, RtcRtpTransceiver};

use crate::engine::{Engine, Job};
use crate::error::ClientError;
use crate::js;
use crate::media::{Encoding, TrackSource, announced_layers, simulcast_layers, track_size};
use crate::peer::{self, SendContent};

/// How long the server has to confirm an announced track (LiveKit's SDK: 10 s).
const PUBLISH_TIMEOUT_MS: u64 = 10_000;

/// A local track and where it stands.
pub(crate) struct LocalInner {
    /// The id the track is announced by, which the server matches to its section: the
    /// captured track's id, or for a section prepared ahead, the id its SDP names.
    pub(crate) cid: RefCell<String>,
    pub(crate) source: TrackSource,
    pub(crate) track: RefCell<MediaStreamTrack>,
    pub(crate) stream: MediaStream,
    pub(crate) encodings: Vec<Encoding>,
    pub(crate) sid: RefCell<Option<String>>,
    pub(crate) transceiver: RefCell<Option<RtcRtpTransceiver>>,
    /// A send section negotiated while the grant did not allow sending, with no track
    /// on it (nothing is sent): when the grant comes, the track is put on it and media
    /// starts without another offer and answer.
    pub(crate) prepared: RefCell<Option<RtcRtpTransceiver>>,
    pub(crate) muted: Cell<bool>,
    pub(crate) in_flight: Cell<bool>,
}

/// A track this participant captures and (when allowed) publishes.
#[derive(Clone)]
pub struct LocalTrack {
    pub(crate) inner: Rc<LocalInner>,
}

impl LocalTrack {
    /// Camera, microphone or screen.
    pub fn source(&self) -> TrackSource {
        self.inner.source
    }

    /// The server's sid once published.
    pub fn sid(&self) -> Option<String> {
        self.inner.sid.borrow().clone()
    }

    /// The captured media (for a self view): the capture itself, so muting and stopping
    /// it act on what the self view shows and what is sent.
    pub fn media(&self) -> MediaStreamTrack {
        Clone::clone(&*self.inner.track.borrow())
    }

    /// Whether it is muted.
    pub fn is_muted(&self) -> bool {
        self.inner.muted.get()
    }

    /// Whether the server currently carries it (it confirmed the track).
    pub fn is_published(&self) -> bool {
        self.inner.sid.borrow().is_some()
    }
}

impl LocalInner {
    pub(crate) fn new(
        track: MediaStreamTrack,
        source: TrackSource,
        simulcast: bool,
    ) -> Result<Self, ClientError> {
        let (width, height) = track_size(&track);
        let encodings = if source == TrackSource::Camera && simulcast {
            simulcast_layers(width, height)
        } else {
            Vec::new()
        };
        let stream = MediaStream::new().map_err(|_| ClientError::UnsupportedBrowser)?;
        stream.add_track(&track);
        Ok(Self {
            cid: RefCell::new(track.id()),
            source,
            track: RefCell::new(track),
            stream,
            encodings,
            sid: RefCell::new(None),
            transceiver: RefCell::new(None),
            prepared: RefCell::new(None),
            muted: Cell::new(false),
            in_flight: Cell::new(false),
        })
    }

    fn request(&self) -> proto::AddTrackRequest {
        let track = self.track.borrow();
        let (width, height) = track_size(&track);
        let audio = self.source.is_audio();
        proto::AddTrackRequest {
            cid: self.cid.borrow().clone(),
            name: self.source.label().to_owned(),
            r#type: if audio {
                proto::TrackType::Audio as i32
            } else {
                proto::TrackType::Video as i32
            },
            source: self.source.wire(),
            width,
            height,
            muted: self.muted.get(),
            layers: if audio {
                Vec::new()
            } else {
                announced_layers(width, height, &self.encodings)
            },
            ..Default::default()
        }
    }
}

/// Publishes `local` if the room is joined and the grant allows; otherwise it stays a
/// wish until [`on_permission`] or a rejoin publishes it.
///
/// The send section is added, and the offer made, right after `AddTrackRequest` goes
/// out, without waiting for `TrackPublishedResponse` as LiveKit's SDK does. The socket
/// is ordered, so the server reads the announcement before the offer that carries it;
/// the round trip saved is what an admitted patient would otherwise wait for, and
/// whatever else is being negotiated at that moment (the sections a new grant to
/// subscribe asks for) goes in the same offer. Refused or unconfirmed, the section is
/// taken down again and the track stays a wish.
///
/// A wish made while the grant forbids sending (a patient in the waiting room) goes
/// further on one connection: its section is negotiated at once with no track on it
/// ([`SendContent::Empty`]), so nothing is sent, and admission only announces the
/// track and puts it on the section. No offer, answer or encoder setup then stands
/// between the Admit click and the patient's first packet. LiveKit's SDK negotiates at
/// publish time instead; the announcement names the section's SDP track id, which is
/// how LiveKit's server (and ours) match a track to its section either way.
pub(crate) async fn publish(
    engine: &Rc<Engine>,
    local: &Rc<LocalInner>,
) -> Result<(), ClientError> {
    match start_publish(engine, local)? {
        Some(started) => finish_publish(engine, local, started).await,
        None => Ok(()),
    }
}

/// A publication under way: the server's confirmation to wait for, and the track
/// being put on its prepared section (if it had one).
struct Started {
    confirmed: oneshot::Receiver<proto::TrackInfo>,
    filling: Option<JsFuture>,
}

/// The synchronous half of [`publish`]: announces the track and puts it on its section
/// (or asks for the offer that adds one) before anything else runs on the page, so a
/// re-render that follows the same signal does not stand between a grant and the
/// patient's first packet. `None`: nothing to wait for (not yet allowed, or already
/// under way).
fn start_publish(
    engine: &Rc<Engine>,
    local: &Rc<LocalInner>,
) -> Result<Option<Started>, ClientError> {
    let (receiver, fill) = {
        let mut st = engine.state.borrow_mut();
        if !st.locals.iter().any(|l| Rc::ptr_eq(l, local)) {
            st.locals.push(local.clone());
        }
        if !st.session.is_joined() || local.in_flight.get() {
            return Ok(None);
        }
        if local.transceiver.borrow().is_some() {
            return Ok(None);
        }
        let Some(publisher) = st.publisher.as_ref() else {
            return Err(ClientError::NotConnected);
        };
        if !st.can_publish() {
            if st.mode == ConnectMode::SinglePeerConnection && local.prepared.borrow().is_none() {
                let audio = local.source.is_audio();
                let section = publisher.add_sender(
                    SendContent::Empty { audio },
                    &local.stream,
                    &local.encodings,
                )?;
                *local.prepared.borrow_mut() = Some(section);
                engine.post(Job::Negotiate);
            }
            return Ok(None);
        }
        let prepared = local.prepared.borrow_mut().take();
        let prepared = prepared.and_then(|section| {
            match peer::section_track_id(&publisher.pc, &section) {
                Some(track_id) => Some((section, track_id)),
                None => {
                    // Not offered yet: a fresh section goes in the next offer instead.
                    section.stop();
                    None
                }
            }
        });
        let (transceiver, fill) = match prepared {
            Some((section, track_id)) => {
                *local.cid.borrow_mut() = track_id;
                (section.clone(), Some(section))
            }
            None => {
                *local.cid.borrow_mut() = local.track.borrow().id();
                let track = local.track.borrow();
                let section = publisher.add_sender(
                    SendContent::Track(&track),
                    &local.stream,
                    &local.encodings,
                )?;
                (section, None)
            }
        };
        *local.transceiver.borrow_mut() = Some(transceiver);
        local.in_flight.set(true);
        let (sender, receiver) = oneshot::channel();
        st.pending_publish
            .insert(local.cid.borrow().clone(), sender);
        st.session.add_track(local.request());
        js::mark(&["add-track-", local.source.label()].concat());
        (receiver, fill)
    };
    engine.flush();
    // Announced first, filled second: the server knows the track before its first
    // packet arrives.
    let filling = fill.map(|section| {
        // The capture itself, not a JS `clone()` of it: muting disables this very
        // track, and leaving stops it (a clone would keep sending and keep the camera
        // on).
        let track = Clone::clone(&*local.track.borrow());
        JsFuture::from(section.sender().replace_track(Some(&track)))
    });
    if filling.is_none() {
        engine.post(Job::Negotiate);
    }
    Ok(Some(Started {
        confirmed: receiver,
        filling,
    }))
}

/// The asynchronous half of [`publish`]: the section filled, the server's confirmation.
async fn finish_publish(
    engine: &Rc<Engine>,
    local: &Rc<LocalInner>,
    started: Started,
) -> Result<(), ClientError> {
    let Started {
        confirmed: receiver,
        filling,
    } = started;
    if let Some(filling) = filling {
        if filling.await.is_err() {
            local.in_flight.set(false);
            let cid = local.cid.borrow().clone();
            engine.state.borrow_mut().pending_publish.remove(&cid);
            take_down(engine, local, false);
            return Err(ClientError::NotAllowedToPublish);
        }
        js::mark(&["section-filled-", local.source.label()].concat());
    }
    let outcome = select(receiver, Box::pin(js::sleep(PUBLISH_TIMEOUT_MS))).await;
    local.in_flight.set(false);
    let info = match outcome {
        Either::Left((Ok(info), _)) => info,
        _ => {
            let cid = local.cid.borrow().clone();
            engine.state.borrow_mut().pending_publish.remove(&cid);
            take_down(engine, local, false);
            return Err(ClientError::NotAllowedToPublish);
        }
    };
    js::mark(&["track-published-", local.source.label()].concat());
    if local.transceiver.borrow().is_none() {
        // Taken down while the server confirmed (the grant narrowed meanwhile).
        return Ok(());
    }
    *local.sid.borrow_mut() = Some(info.sid.clone());
    engine
        .state
        .borrow_mut()
        .emit(crate::room::RoomEvent::LocalTracksChanged);
    Ok(())
}

/// Stops sending `local` (it stays a wish unless `forget`).
pub(crate) fn take_down(engine: &Rc<Engine>, local: &Rc<LocalInner>, forget: bool) {
    let mut st = engine.state.borrow_mut();
    if let Some(transceiver) = local.transceiver.borrow_mut().take()
        && let Some(publisher) = st.publisher.as_ref()
    {
        publisher.pc.remove_track(&transceiver.sender());
        engine.post(Job::Negotiate);
    }
    local.sid.borrow_mut().take();
    if forget {
        if let Some(section) = local.prepared.borrow_mut().take() {
            section.stop();
            engine.post(Job::Negotiate);
        }
        st.locals.retain(|l| !Rc::ptr_eq(l, local));
        local.track.borrow().stop();
    }
    st.emit(crate::room::RoomEvent::LocalTracksChanged);
}

/// The grant changed: publish the wishes it now allows, take down what it forbids.
pub(crate) fn on_permission(engine: &Rc<Engine>, permission: proto::ParticipantPermission) {
    js::mark(if permission.can_publish {
        "permission-publish"
    } else {
        "permission-no-publish"
    });
    let locals = {
        let mut st = engine.state.borrow_mut();
        st.permission = Some(permission.clone());
        st.emit(crate::room::RoomEvent::PermissionChanged {
            can_publish: permission.can_publish,
            can_subscribe: permission.can_subscribe,
        });
        st.locals.clone()
    };
    for local in locals {
        if permission.can_publish {
            // Started here, not in the spawned task: the task runs only after this
            // signal's events re-render the page.
            let Ok(Some(started)) = start_publish(engine, &local) else {
                continue;
            };
            let engine = engine.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = finish_publish(&engine, &local, started).await;
                engine.dispatch();
            });
        } else {
            take_down(engine, &local, false);
        }
    }
}

/// Our local track published as `sid`.
fn published(engine: &Rc<Engine>, sid: &str) -> Option<Rc<LocalInner>> {
    engine
        .state
        .borrow()
        .locals
        .iter()
        .find(|l| l.sid.borrow().as_deref() == Some(sid))
        .cloned()
}

/// The server took one of our tracks down (a narrowed grant).
pub(crate) fn on_unpublished(engine: &Rc<Engine>, sid: &str) {
    let local = published(engine, sid);
    if let Some(local) = local {
        take_down(engine, &local, false);
    }
}

/// The server (a moderator through `MutePublishedTrack`) muted one of our tracks.
pub(crate) fn on_server_mute(engine: &Rc<Engine>, sid: &str, muted: bool) {
    let local = published(engine, sid);
    if let Some(local) = local {
        set_muted(engine, &local, muted);
    }
}

/// Mutes or unmutes: the track stays published; the server and everyone else are told.
pub(crate) fn set_muted(engine: &Rc<Engine>, local: &Rc<LocalInner>, muted: bool) {
    local.muted.set(muted);
    local.track.borrow().set_enabled(!muted);
    let mut st = engine.state.borrow_mut();
    if let Some(sid) = local.sid.borrow().as_ref() {
        st.session.mute(sid, muted);
    }
    st.emit(crate::room::RoomEvent::LocalTracksChanged);
    drop(st);
    engine.flush();
}

/// Dynacast: turn each simulcast layer on or off as subscribers need it.
pub(crate) fn on_subscribed_quality(engine: &Rc<Engine>, update: &proto::SubscribedQualityUpdate) {
    let st = engine.state.borrow();
    let Some(local) = st
        .locals
        .iter()
        .find(|l| l.sid.borrow().as_deref() == Some(update.track_sid.as_str()))
    else {
        return;
    };
    let Some(transceiver) = local.transceiver.borrow().clone() else {
        return;
    };
    // Servers before codec-aware dynacast send only the deprecated flat list.
    #[allow(deprecated)]
    let qualities = match update.subscribed_codecs.first() {
        Some(codec) => codec.qualities.clone(),
        None => update.subscribed_qualities.clone(),
    };
    let sender = transceiver.sender();
    let Ok(parameters) = js::call(&sender, "getParameters", &[]) else {
        return;
    };
    let encodings = js::get(&parameters, "encodings");
    let Ok(encodings) = wasm_bindgen::JsCast::dyn_into::<js_sys::Array>(encodings) else {
        return;
    };
    for encoding in encodings.iter() {
        let Some(rid) = js::get_str(&encoding, "rid") else {
            continue;
        };
        let quality = Encoding::quality(&rid) as i32;
        if let Some(wanted) = qualities.iter().find(|q| q.quality == quality) {
            js::set(&encoding, "active", wanted.enabled);
        }
    }
    let _ = js::call(&sender, "setParameters", &[parameters]);
}
