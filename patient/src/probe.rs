//! How the way to the clinic's server looks from here: the round trip to `/health`,
//! then a throughput sample each way through `/api/v1/calls/speed-test` (visit
//! sessions only; 256 KiB of incompressible bytes down, 128 KiB up).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

/// What the check measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// The round trip to the server.
    pub round_trip_ms: u32,
    /// Download throughput, if the sample finished.
    pub down_kbps: Option<u32>,
    /// Upload throughput, if the sample finished.
    pub up_kbps: Option<u32>,
}

/// The throughput sample's address.
const SPEED_TEST: &str = "/api/v1/calls/speed-test";
/// What the upload half sends (the server takes up to 256 KiB).
const UPLOAD_BYTES: u32 = 128 * 1024;

/// The round trip, then a sample each way. A failed sample leaves its figure out; an
/// unreachable server is `Err`.
pub async fn probe_server() -> Result<Reach, ()> {
    let window = web_sys::window().ok_or(())?;
    let performance = window.performance().ok_or(())?;
    let started = performance.now();
    let response: Response = JsFuture::from(window.fetch_with_str("/health"))
        .await
        .map_err(|_| ())?
        .unchecked_into();
    if !response.ok() {
        return Err(());
    }
    let round_trip_ms = (performance.now() - started).round() as u32;
    let kbps = |bytes: f64, since: f64| {
        let ms = (performance.now() - since).max(1.0);
        Some((bytes * 8.0 / ms).round() as u32)
    };
    let down_kbps = async {
        let started = performance.now();
        let response: Response = JsFuture::from(window.fetch_with_str(SPEED_TEST))
            .await
            .ok()?
            .unchecked_into();
        if !response.ok() {
            return None;
        }
        let body = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
        let bytes = js_sys::ArrayBuffer::from(body).byte_length();
        kbps(f64::from(bytes), started)
    }
    .await;
    let up_kbps = async {
        let body = js_sys::Uint8Array::new_with_length(UPLOAD_BYTES);
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        let started = performance.now();
        let response: Response = JsFuture::from(window.fetch_with_str_and_init(SPEED_TEST, &init))
            .await
            .ok()?
            .unchecked_into();
        if !response.ok() {
            return None;
        }
        kbps(f64::from(UPLOAD_BYTES), started)
    }
    .await;
    Ok(Reach {
        round_trip_ms,
        down_kbps,
        up_kbps,
    })
}
