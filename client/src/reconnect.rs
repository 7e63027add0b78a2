//! Joining, and getting back after a loss: resume first (a new socket with `reconnect`
//! and our sid, then an ICE restart; nobody sees us leave), a full rejoin when the
//! server refuses or media failed (new connections, every wished track published
//! again), retries on LiveKit's delays with jitter, and a stop for a refused token or a
//! server that sent us away. The decisions are `bedside_signal::recovery`'s; this is
//! their driver.

use std::rc::Rc;

use bedside_signal::proto::{self, leave_request};
use bedside_signal::recovery::{self, Recovery};
use bedside_signal::{ConnectMode, JoinOptions, LossCause, Session, Target, join_url};
use futures_channel::oneshot;
use futures_util::future::{Either, select};

use crate::engine::{Engine, JoinOutcome, resolve_join};
use crate::error::ClientError;
use crate::js;
use crate::peer::{self, Peer};
use crate::room::{ConnectionState, RoomEvent};
use crate::socket::SignalSocket;

/// From socket open to the join response (LiveKit: 15 s to open, then 5 s).
const JOIN_TIMEOUT_MS: u64 = 15_000;

/// One join attempt in `mode`: new peer connections, a new socket, and the wait for
/// the join response.
pub(crate) async fn join(engine: &Rc<Engine>, mode: ConnectMode) -> JoinOutcome {
    let single = mode == ConnectMode::SinglePeerConnection;
    let (publisher_pc, receiver) = {
        let mut st = engine.state.borrow_mut();
        close_all(&mut st);
        st.peer_generation += 1;
        st.mode = mode;
        let publisher = Peer::new(
            Target::Publisher,
            st.peer_generation,
            &st.ice_servers,
            engine.jobs.clone(),
        )?;
        if single {
            publisher.add_receive_sections(3, 3);
        }
        publisher.add_data_channels();
        let pc = publisher.pc.clone();
        st.publisher = Some(publisher);
        st.negotiating = single;
        st.renegotiate = false;
        for local in &st.locals {
            local.sid.borrow_mut().take();
            local.transceiver.borrow_mut().take();
            local.prepared.borrow_mut().take();
        }
        let (sender, receiver) = oneshot::channel();
        st.join_waiter = Some(sender);
        (pc, receiver)
    };
    let offer = if single {
        Some(peer::offer(&publisher_pc, false).await?)
    } else {
        None
    };
    {
        let mut st = engine.state.borrow_mut();
        st.session = Session::new(js::now_ms(), single);
        let options = JoinOptions {
            auto_subscribe: st.options.auto_subscribe,
            adaptive_stream: st.options.adaptive_stream,
            open_sections: true,
            ..Default::default()
        };
        let url = join_url(&st.url, &st.token, mode, &options, offer.as_deref());
        open_socket(engine, &mut st, &url)?;
    }
    wait(receiver).await
}

fn open_socket(
    engine: &Rc<Engine>,
    st: &mut crate::engine::State,
    url: &str,
) -> Result<(), ClientError> {
    st.socket_generation += 1;
    st.socket = Some(SignalSocket::open(
        url,
        st.socket_generation,
        engine.jobs.clone(),
    )?);
    Ok(())
}

async fn wait(receiver: oneshot::Receiver<JoinOutcome>) -> JoinOutcome {
    match select(receiver, Box::pin(js::sleep(JOIN_TIMEOUT_MS))).await {
        Either::Left((Ok(outcome), _)) => outcome,
        _ => Err(ClientError::Unreachable),
    }
}

fn close_all(st: &mut crate::engine::State) {
    if let Some(socket) = st.socket.take() {
        socket.close();
    }
    for peer in [st.publisher.take(), st.subscriber.take()]
        .into_iter()
        .flatten()
    {
        peer.close();
    }
    st.observers.clear();
    st.shown.clear();
}

/// Why a join failed, as `/rtc/validate` explains it: a refused token, a server
/// without the single-connection endpoint (fall back to two connections), or no
/// server at all.
pub(crate) async fn explain_failure(url: &str, token: &str, mode: ConnectMode) -> ClientError {
    let http = url.replacen("ws", "http", 1);
    let path = if mode == ConnectMode::SinglePeerConnection {
        "rtc/v1/validate"
    } else {
        "rtc/validate"
    };
    let query: String = js_sys::encode_uri_component(token).into();
    let address = format!("{}/{path}?access_token={query}", http.trim_end_matches('/'));
    let Some(window) = web_sys::window() else {
        return ClientError::UnsupportedBrowser;
    };
    let Ok(response) = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&address)).await
    else {
        return ClientError::Unreachable;
    };
    let response: web_sys::Response = wasm_bindgen::JsCast::unchecked_into(response);
    let body = match response.text() {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    match response.status() {
        401 | 403 => ClientError::Forbidden(body.chars().take(200).collect()),
        404 if !body.contains("room does not exist") => {
            ClientError::Disconnected("no such endpoint".into())
        }
        _ => ClientError::Unreachable,
    }
}

/// The join response: who we are, the ICE servers, the room's participants.
pub(crate) fn on_joined(engine: &Rc<Engine>, join: proto::JoinResponse) {
    let locals = {
        let mut st = engine.state.borrow_mut();
        let me = join.participant.clone().unwrap_or_default();
        st.local_sid = me.sid.clone();
        st.local_identity = me.identity.clone();
        st.permission = me.permission.clone();
        st.ice_servers = join.ice_servers.clone();
        if let Some(publisher) = st.publisher.as_ref() {
            publisher.set_ice_servers(&join.ice_servers);
        }
        if st.mode == ConnectMode::TwoPeerConnections {
            match Peer::new(
                Target::Subscriber,
                st.peer_generation,
                &join.ice_servers,
                engine.jobs.clone(),
            ) {
                Ok(subscriber) => st.subscriber = Some(subscriber),
                Err(error) => {
                    resolve_join(&mut st, Err(error));
                    return;
                }
            }
        }
        let own = st.local_sid.clone();
        let events = st.remotes.reset(join.other_participants, &own);
        st.outbox.extend(events);
        st.set_connection(ConnectionState::Connected);
        resolve_join(&mut st, Ok(()));
        st.locals.clone()
    };
    for local in locals {
        let engine = engine.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = crate::publish::publish(&engine, &local).await;
            engine.dispatch();
        });
    }
}

/// A resume was accepted: the caller restarts ICE.
pub(crate) fn on_resumed(engine: &Rc<Engine>, reconnect: proto::ReconnectResponse) {
    let mut st = engine.state.borrow_mut();
    if !reconnect.ice_servers.is_empty() {
        st.ice_servers = reconnect.ice_servers.clone();
        if let Some(publisher) = st.publisher.as_ref() {
            publisher.set_ice_servers(&reconnect.ice_servers);
        }
    }
    st.negotiating = false;
    st.set_connection(ConnectionState::Connected);
    resolve_join(&mut st, Ok(()));
}

/// The server asked us to leave: resume, rejoin, or stop, as it says.
pub(crate) fn on_leave(engine: &Rc<Engine>, leave: &proto::LeaveRequest) {
    let action =
        leave_request::Action::try_from(leave.action).unwrap_or(leave_request::Action::Disconnect);
    let waiting = {
        let mut st = engine.state.borrow_mut();
        if st.join_waiter.is_some() {
            let outcome = match action {
                leave_request::Action::Disconnect => Err(ClientError::Disconnected(reason(leave))),
                _ => Err(ClientError::Unreachable),
            };
            resolve_join(&mut st, outcome);
            true
        } else {
            false
        }
    };
    if !waiting {
        on_loss(engine, LossCause::ServerLeave(action));
        if action == leave_request::Action::Disconnect {
            disconnect(engine, ClientError::Disconnected(reason(leave)));
        }
    }
}

fn reason(leave: &proto::LeaveRequest) -> String {
    proto::DisconnectReason::try_from(leave.reason)
        .map(|r| r.as_str_name().to_lowercase())
        .unwrap_or_default()
}

/// Ends the room for good.
pub(crate) fn disconnect(engine: &Rc<Engine>, reason: ClientError) {
    let mut st = engine.state.borrow_mut();
    close_all(&mut st);
    for local in &st.locals {
        local.track.borrow().stop();
    }
    st.set_connection(ConnectionState::Disconnected { reason });
}

/// Something was lost: start recovering (once; a running recovery carries on).
pub(crate) fn on_loss(engine: &Rc<Engine>, cause: LossCause) {
    let decision = recovery::decide(cause);
    {
        let mut st = engine.state.borrow_mut();
        if st.reconnecting || matches!(st.connection, ConnectionState::Disconnected { .. }) {
            return;
        }
        if decision == Recovery::Stop {
            return;
        }
        st.reconnecting = true;
        st.set_connection(ConnectionState::Reconnecting);
    }
    let engine = engine.clone();
    wasm_bindgen_futures::spawn_local(async move {
        recover(&engine, decision).await;
        engine.state.borrow_mut().reconnecting = false;
        engine.dispatch();
    });
}

async fn recover(engine: &Rc<Engine>, mut decision: Recovery) {
    let policy = engine.state.borrow().options.reconnect.clone();
    for attempt in 0.. {
        let Some(delay) = policy.delay_ms(attempt, js::random()) else {
            disconnect(engine, ClientError::ConnectionLost);
            return;
        };
        js::sleep(delay).await;
        if matches!(
            engine.state.borrow().connection,
            ConnectionState::Disconnected { .. }
        ) {
            return;
        }
        let outcome = match decision {
            Recovery::Resume => resume(engine).await,
            _ => {
                let mode = engine.state.borrow().mode;
                join(engine, mode).await
            }
        };
        engine.flush();
        engine.dispatch();
        match outcome {
            Ok(()) => return,
            Err(ClientError::Disconnected(reason)) => {
                disconnect(engine, ClientError::Disconnected(reason));
                return;
            }
            Err(_) => {
                let (url, token, mode) = {
                    let st = engine.state.borrow();
                    (st.url.clone(), st.token.clone(), st.mode)
                };
                if let ClientError::Forbidden(detail) = explain_failure(&url, &token, mode).await {
                    disconnect(engine, ClientError::Forbidden(detail));
                    return;
                }
                decision = Recovery::Rejoin;
            }
        }
    }
}

/// Reopens the socket asking to resume our session.
async fn resume(engine: &Rc<Engine>) -> JoinOutcome {
    let receiver = {
        let mut st = engine.state.borrow_mut();
        let options = JoinOptions {
            auto_subscribe: st.options.auto_subscribe,
            adaptive_stream: st.options.adaptive_stream,
            resume_sid: Some(st.local_sid.clone()),
            open_sections: true,
            ..Default::default()
        };
        let url = join_url(&st.url, &st.token, st.mode, &options, None);
        st.session = Session::resuming(&st.session, js::now_ms());
        let (sender, receiver) = oneshot::channel();
        st.join_waiter = Some(sender);
        open_socket(engine, &mut st, &url)?;
        st.emit(RoomEvent::StateChanged(ConnectionState::Reconnecting));
        receiver
    };
    wait(receiver).await
}
