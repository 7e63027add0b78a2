//! What the engine does with the server's signals: answers and offers applied in order,
//! trickled candidates, participant and permission updates, published tracks, and the
//! publisher's renegotiation. Called from the engine's serial loop only.

use std::rc::Rc;

use bedside_signal::proto::signal_response;
use bedside_signal::{Event, LossCause, Target};
use web_sys::{RtcPeerConnection, RtcRtpTransceiver};

use crate::engine::{Engine, RemoteMedia, State};
use crate::js;
use crate::peer;
use crate::room::RoomEvent;

/// Handles one event of the signaling session.
pub(crate) async fn on_signal(engine: &Rc<Engine>, event: Event) {
    match event {
        Event::Joined(join) => crate::reconnect::on_joined(engine, *join),
        Event::Resumed(reconnect) => {
            crate::reconnect::on_resumed(engine, *reconnect);
            negotiate(engine, true).await;
        }
        Event::Answer {
            sdp,
            mid_to_track_id,
            ..
        } => {
            let pc = {
                let mut st = engine.state.borrow_mut();
                st.remotes.learn_mids(mid_to_track_id);
                st.peer(Target::Publisher)
            };
            let Some(pc) = pc else { return };
            js::mark("answer-received");
            let applied = peer::set_remote(&pc, "answer", &sdp).await.is_ok();
            js::mark("answer-applied");
            let again = {
                let mut st = engine.state.borrow_mut();
                if applied {
                    st.session.remote_description_set(Target::Publisher);
                    let events = rematch_receivers(&mut st, &pc);
                    st.outbox.extend(events);
                }
                st.negotiating = false;
                std::mem::take(&mut st.renegotiate)
            };
            // The tracks this answer opened reach the page now, not after the next
            // offer is made: a tile attaches its media while the browser works.
            engine.dispatch();
            if again {
                negotiate(engine, false).await;
            }
        }
        Event::SectionsAssigned(sections) => {
            js::mark("sections-assigned");
            {
                let mut st = engine.state.borrow_mut();
                let mids = sections.into_iter().map(|s| (s.mid, s.track_sid));
                st.remotes.learn_mids(mids.collect());
                if let Some(pc) = st.peer(Target::Publisher) {
                    let events = rematch_receivers(&mut st, &pc);
                    st.outbox.extend(events);
                }
            }
            engine.dispatch();
        }
        Event::Offer { target, sdp, id } => {
            let Some(pc) = engine.state.borrow().peer(target) else {
                return;
            };
            if peer::set_remote(&pc, "offer", &sdp).await.is_err() {
                return;
            }
            engine
                .state
                .borrow_mut()
                .session
                .remote_description_set(target);
            if let Ok(answer) = peer::answer(&pc).await {
                engine.state.borrow_mut().session.send_answer(&answer, id);
            }
        }
        Event::RemoteCandidate {
            target,
            candidate_init,
        } => {
            let pc = engine.state.borrow().peer(target);
            if let Some(pc) = pc {
                peer::add_candidate(&pc, &candidate_init).await;
            }
        }
        Event::Participants(list) => {
            let mut st = engine.state.borrow_mut();
            let own = st.local_sid.clone();
            let events = st.remotes.update(list, &own);
            st.outbox.extend(events);
        }
        Event::PermissionChanged(permission) => {
            crate::publish::on_permission(engine, permission);
        }
        Event::TrackPublished { cid, track } => {
            if let Some(waiter) = engine.state.borrow_mut().pending_publish.remove(&cid) {
                let _ = waiter.send(*track);
            }
        }
        Event::TrackUnpublished { sid } => crate::publish::on_unpublished(engine, &sid),
        Event::SubscribedQuality(update) => crate::publish::on_subscribed_quality(engine, &update),
        Event::StreamState(update) => {
            let mut st = engine.state.borrow_mut();
            let events = st.remotes.set_stream_states(&update.stream_states);
            st.outbox.extend(events);
        }
        Event::Leave(leave) => crate::reconnect::on_leave(engine, &leave),
        Event::TokenRefreshed(token) => engine.state.borrow_mut().token = token,
        Event::Rtt(rtt) => engine.state.borrow_mut().rtt_ms = Some(rtt),
        Event::SignalLost => crate::reconnect::on_loss(engine, LossCause::PingTimeout),
        Event::Other(message) => on_other(engine, *message).await,
    }
}

async fn on_other(engine: &Rc<Engine>, message: signal_response::Message) {
    match message {
        signal_response::Message::MediaSectionsRequirement(need) => {
            js::mark("sections-requested");
            if let Some(publisher) = engine.state.borrow().publisher.as_ref() {
                publisher.add_receive_sections(need.num_audios, need.num_videos);
            }
            negotiate(engine, false).await;
        }
        signal_response::Message::Mute(request) => {
            crate::publish::on_server_mute(engine, &request.sid, request.muted);
        }
        signal_response::Message::ConnectionQuality(update) => {
            let mut st = engine.state.borrow_mut();
            let events = st.remotes.set_connection_qualities(&update.updates);
            st.outbox.extend(events);
        }
        signal_response::Message::SpeakersChanged(update) => {
            let mut st = engine.state.borrow_mut();
            let events = st.remotes.set_speakers(&update.speakers);
            st.outbox.extend(events);
        }
        _ => {}
    }
}

/// Offers on the publisher, or marks a renegotiation for when the pending answer lands.
pub(crate) async fn negotiate(engine: &Rc<Engine>, ice_restart: bool) {
    let pc = {
        let mut st = engine.state.borrow_mut();
        if st.negotiating && !ice_restart {
            st.renegotiate = true;
            return;
        }
        if !st.session.is_joined() {
            return;
        }
        st.negotiating = true;
        if ice_restart {
            st.session.remote_description_cleared(Target::Publisher);
        }
        st.peer(Target::Publisher)
    };
    let Some(pc) = pc else { return };
    js::mark("offer-create");
    match peer::offer(&pc, ice_restart).await {
        Ok(sdp) => {
            js::mark("offer-sent");
            engine.state.borrow_mut().session.send_offer(&sdp);
        }
        Err(_) => engine.state.borrow_mut().negotiating = false,
    }
}

/// One connection reuses its receive sections for new tracks without a new `ontrack`:
/// after each answer, every section's receiver is matched to the track its mid now
/// carries.
fn rematch_receivers(st: &mut State, pc: &RtcPeerConnection) -> Vec<RoomEvent> {
    let mut events = Vec::new();
    for transceiver in pc.get_transceivers().iter() {
        let transceiver: RtcRtpTransceiver = transceiver.into();
        let Some(mid) = transceiver.mid() else {
            continue;
        };
        let media = RemoteMedia {
            mid: Some(mid),
            stream_id: None,
            track: transceiver.receiver().track(),
            receiver: transceiver.receiver(),
        };
        if st
            .remotes
            .knows_mid(media.mid.as_deref().unwrap_or_default())
        {
            events.extend(st.remotes.add_media(media));
        }
    }
    events
}
