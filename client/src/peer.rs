//! One `RTCPeerConnection` and what the engine does with it: receive sections, data
//! channels, offers and answers, remote candidates, senders with simulcast encodings.
//! Its callbacks become engine jobs tagged with the connection's target and generation.

use bedside_signal::{Target, proto};
use futures_channel::mpsc::UnboundedSender;
use js_sys::{Array, JSON};
use wasm_bindgen::prelude::*;
use web_sys::{
    MediaStreamTrack, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcRtpTransceiver,
    RtcTrackEvent,
};

use crate::engine::{Job, RemoteMedia};
use crate::error::ClientError;
use crate::js::{self, Callback, obj};
use crate::media::Encoding;

/// One peer connection.
pub(crate) struct Peer {
    pub(crate) pc: RtcPeerConnection,
    _on_candidate: Callback<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_track: Callback<dyn FnMut(RtcTrackEvent)>,
    _on_state: Callback<dyn FnMut()>,
}

/// `RTCConfiguration` for LiveKit's ICE servers.
fn configuration(ice_servers: &[proto::IceServer]) -> js_sys::Object {
    let servers: Array = ice_servers
        .iter()
        .map(|server| {
            let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
            let entry = obj(&[("urls", urls.into())]);
            if !server.username.is_empty() {
                js::set(&entry, "username", server.username.as_str());
                js::set(&entry, "credential", server.credential.as_str());
            }
            JsValue::from(entry)
        })
        .collect();
    obj(&[
        ("iceServers", servers.into()),
        ("bundlePolicy", "max-bundle".into()),
        ("rtcpMuxPolicy", "require".into()),
        ("sdpSemantics", "unified-plan".into()),
    ])
}

impl Peer {
    /// A new connection for `target`; events go to `jobs`.
    pub(crate) fn new(
        target: Target,
        generation: u32,
        ice_servers: &[proto::IceServer],
        jobs: UnboundedSender<Job>,
    ) -> Result<Self, ClientError> {
        let config: web_sys::RtcConfiguration = configuration(ice_servers).unchecked_into();
        let pc = RtcPeerConnection::new_with_configuration(&config)
            .map_err(|_| ClientError::UnsupportedBrowser)?;
        let sender = jobs.clone();
        let on_candidate = Callback::new(Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |event: RtcPeerConnectionIceEvent| {
                let job = match event.candidate() {
                    Some(candidate) => {
                        let init = candidate.to_json();
                        let json = JSON::stringify(&init)
                            .ok()
                            .and_then(|s| s.as_string())
                            .unwrap_or_default();
                        Job::LocalCandidate(generation, target, Some(json))
                    }
                    None => Job::LocalCandidate(generation, target, None),
                };
                let _ = sender.unbounded_send(job);
            },
        ));
        let sender = jobs.clone();
        let on_track = Callback::new(Closure::<dyn FnMut(RtcTrackEvent)>::new(
            move |event: RtcTrackEvent| {
                let mid = event.transceiver().mid();
                let stream_id = event
                    .streams()
                    .get(0)
                    .dyn_into::<web_sys::MediaStream>()
                    .ok()
                    .map(|s| s.id());
                let media = RemoteMedia {
                    mid,
                    stream_id,
                    track: event.track(),
                    receiver: event.receiver(),
                };
                let _ = sender.unbounded_send(Job::RemoteTrack(generation, Box::new(media)));
            },
        ));
        let state_pc = pc.clone();
        let on_state = Callback::new(Closure::<dyn FnMut()>::new(move || {
            let state = state_pc.connection_state();
            let _ = jobs.unbounded_send(Job::PeerState(generation, target, state));
        }));
        pc.set_onicecandidate(Some(on_candidate.function()));
        pc.set_ontrack(Some(on_track.function()));
        pc.set_onconnectionstatechange(Some(on_state.function()));
        Ok(Self {
            pc,
            _on_candidate: on_candidate,
            _on_track: on_track,
            _on_state: on_state,
        })
    }

    /// Uses these ICE servers from now on (they arrive with the join response).
    pub(crate) fn set_ice_servers(&self, ice_servers: &[proto::IceServer]) {
        if ice_servers.is_empty() {
            return;
        }
        let config: web_sys::RtcConfiguration = configuration(ice_servers).unchecked_into();
        let _ = self.pc.set_configuration_with_configuration(&config);
    }

    /// Adds `audio` + `video` receive-only sections (single connection mode).
    pub(crate) fn add_receive_sections(&self, audio: u32, video: u32) {
        let init = obj(&[("direction", "recvonly".into())]);
        for kind in std::iter::repeat_n("audio", audio as usize)
            .chain(std::iter::repeat_n("video", video as usize))
        {
            let _ = js::call(
                &self.pc,
                "addTransceiver",
                &[kind.into(), init.clone().into()],
            );
        }
    }

    /// LiveKit's two data channels (reliable and lossy), as its SDK opens them.
    pub(crate) fn add_data_channels(&self) {
        let reliable = obj(&[("ordered", true.into())]);
        let lossy = obj(&[("ordered", false.into()), ("maxRetransmits", 0.into())]);
        let _ = js::call(
            &self.pc,
            "createDataChannel",
            &["_reliable".into(), reliable.into()],
        );
        let _ = js::call(
            &self.pc,
            "createDataChannel",
            &["_lossy".into(), lossy.into()],
        );
    }
}

/// Creates an offer on `pc` (restarting ICE if asked) and sets it locally; returns its
/// SDP. A free function over a clone of the connection, so that no engine state is
/// borrowed while the browser works.
pub(crate) async fn offer(
    pc: &RtcPeerConnection,
    ice_restart: bool,
) -> Result<String, ClientError> {
    let options = obj(&[("iceRestart", ice_restart.into())]);
    let offer = js::call_async(pc, "createOffer", &[options.into()])
        .await
        .map_err(|e| ClientError::from_js(&e))?;
    js::call_async(pc, "setLocalDescription", std::slice::from_ref(&offer))
        .await
        .map_err(|e| ClientError::from_js(&e))?;
    Ok(js::get_str(&offer, "sdp").unwrap_or_default())
}

/// Creates an answer to the remote offer and sets it locally; returns its SDP.
pub(crate) async fn answer(pc: &RtcPeerConnection) -> Result<String, ClientError> {
    let answer = js::call_async(pc, "createAnswer", &[])
        .await
        .map_err(|e| ClientError::from_js(&e))?;
    js::call_async(pc, "setLocalDescription", std::slice::from_ref(&answer))
        .await
        .map_err(|e| ClientError::from_js(&e))?;
    Ok(js::get_str(&answer, "sdp").unwrap_or_default())
}

/// Sets the remote description (`kind` is "offer" or "answer").
pub(crate) async fn set_remote(
    pc: &RtcPeerConnection,
    kind: &str,
    sdp: &str,
) -> Result<(), ClientError> {
    let description = obj(&[("type", kind.into()), ("sdp", sdp.into())]);
    js::call_async(pc, "setRemoteDescription", &[description.into()])
        .await
        .map(|_| ())
        .map_err(|e| ClientError::from_js(&e))
}

/// The track id the local description gives `transceiver`'s section (see
/// [`bedside_signal::sdp::section_track_id`]); `None` until an offer carried it.
pub(crate) fn section_track_id(
    pc: &RtcPeerConnection,
    transceiver: &RtcRtpTransceiver,
) -> Option<String> {
    let mid = transceiver.mid()?;
    let sdp = pc.local_description()?.sdp();
    bedside_signal::sdp::section_track_id(&sdp, &mid).map(str::to_owned)
}

/// Adds a remote candidate (`RTCIceCandidateInit` JSON); bad ones are dropped.
pub(crate) async fn add_candidate(pc: &RtcPeerConnection, candidate_init: &str) {
    let Ok(init) = JSON::parse(candidate_init) else {
        return;
    };
    let _ = js::call_async(pc, "addIceCandidate", &[init]).await;
}

/// What a new send section carries.
pub(crate) enum SendContent<'a> {
    /// This track, from the start.
    Track(&'a MediaStreamTrack),
    /// Nothing yet: the section sends no packet until a track is put on it
    /// (`replaceTrack`). Negotiated ahead, it starts sending the moment it is filled,
    /// without another offer and answer.
    Empty {
        /// An audio section (else video).
        audio: bool,
    },
}

impl Peer {
    /// A new send-only section, with simulcast `encodings` if any.
    pub(crate) fn add_sender(
        &self,
        content: SendContent<'_>,
        stream: &web_sys::MediaStream,
        encodings: &[Encoding],
    ) -> Result<RtcRtpTransceiver, ClientError> {
        let init = obj(&[
            ("direction", "sendonly".into()),
            ("streams", Array::of1(stream).into()),
        ]);
        if !encodings.is_empty() {
            let list: Array = encodings.iter().map(|e| JsValue::from(e.to_js())).collect();
            js::set(&init, "sendEncodings", list);
        }
        let track_or_kind: JsValue = match content {
            SendContent::Track(track) => track.into(),
            SendContent::Empty { audio: true } => "audio".into(),
            SendContent::Empty { audio: false } => "video".into(),
        };
        js::call(&self.pc, "addTransceiver", &[track_or_kind, init.into()])
            .map(|t| t.unchecked_into())
            .map_err(|e| ClientError::from_js(&e))
    }

    /// Closes the connection (its callbacks stop with it).
    pub(crate) fn close(&self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
    }
}
