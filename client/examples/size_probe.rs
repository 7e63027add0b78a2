//! Links every public API of `bedside-client` into a wasm of its own, so that
//! `scripts/bench-client` can weigh the client alone (std, allocator, protobuf types and
//! all), next to livekit-client's bundle. Not run; only measured.

use std::rc::Rc;

use bedside_client::{Room, RoomOptions, Scenario, list_devices};
use wasm_bindgen::prelude::*;

/// Every call the portal makes, in one function the linker cannot drop.
#[wasm_bindgen]
pub async fn probe(
    url: String,
    token: String,
    element: web_sys::HtmlMediaElement,
    device: String,
) -> Result<String, JsValue> {
    let error = |e: bedside_client::ClientError| JsValue::from_str(&e.to_string());
    let options = RoomOptions {
        on_event: Some(Rc::new(|event| {
            let _ = format!("{event:?}");
        })),
        ..Default::default()
    };
    let room = Room::connect(&url, &token, options).await.map_err(error)?;
    let camera = room.publish_camera(None).await.map_err(error)?;
    let microphone = room.publish_microphone(None).await.map_err(error)?;
    let screen = room.publish_screen().await.map_err(error)?;
    room.set_muted(&microphone, true);
    room.switch_device(&camera, &device).await.map_err(error)?;
    for participant in room.participants() {
        for track in participant.tracks {
            room.attach(&track.sid, &element);
            room.detach(&track.sid);
        }
    }
    let stats = room.stats().await;
    let devices = list_devices().await.map_err(error)?;
    room.simulate(Scenario::SignalLoss);
    room.unpublish(&screen);
    let summary = format!(
        "{:?} {} {:?} {:?}",
        stats.quality,
        devices.len(),
        room.state(),
        room.rtt_ms()
    );
    room.disconnect();
    Ok(summary)
}
