//! The signaling WebSocket: binary frames in and out, open and close reported to the
//! engine as jobs tagged with the socket's generation (so a late event from a replaced
//! socket is recognised and ignored).

use futures_channel::mpsc::UnboundedSender;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::engine::Job;
use crate::error::ClientError;
use crate::js::Callback;

/// One open (or opening) signaling socket.
pub(crate) struct SignalSocket {
    socket: WebSocket,
    _on_open: Callback<dyn FnMut()>,
    _on_message: Callback<dyn FnMut(MessageEvent)>,
    _on_close: Callback<dyn FnMut(CloseEvent)>,
}

impl SignalSocket {
    /// Opens `url`; its events go to `jobs` tagged with `generation`.
    pub(crate) fn open(
        url: &str,
        generation: u32,
        jobs: UnboundedSender<Job>,
    ) -> Result<Self, ClientError> {
        let socket = WebSocket::new(url).map_err(|_| ClientError::UnsupportedBrowser)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let sender = jobs.clone();
        let on_open = Callback::new(Closure::<dyn FnMut()>::new(move || {
            let _ = sender.unbounded_send(Job::SocketOpened);
        }));
        let sender = jobs.clone();
        let on_message = Callback::new(Closure::<dyn FnMut(MessageEvent)>::new(
            move |event: MessageEvent| {
                if let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() {
                    let bytes = Uint8Array::new(&buffer).to_vec();
                    let _ = sender.unbounded_send(Job::Frame(generation, bytes));
                }
            },
        ));
        let on_close = Callback::new(Closure::<dyn FnMut(CloseEvent)>::new(
            move |event: CloseEvent| {
                let _ = jobs.unbounded_send(Job::SocketClosed(generation, event.code()));
            },
        ));
        socket.set_onopen(Some(on_open.function()));
        socket.set_onmessage(Some(on_message.function()));
        socket.set_onclose(Some(on_close.function()));
        Ok(Self {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Whether frames can be sent now.
    pub(crate) fn is_open(&self) -> bool {
        self.socket.ready_state() == WebSocket::OPEN
    }

    /// Sends one binary frame.
    pub(crate) fn send(&self, frame: &[u8]) {
        let _ = self.socket.send_with_u8_array(frame);
    }

    /// Closes the socket and stops reporting its events.
    pub(crate) fn close(&self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

impl Drop for SignalSocket {
    fn drop(&mut self) {
        self.close();
    }
}
