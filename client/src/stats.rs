//! Per-track statistics from `getStats`: resolution, bytes, frames, loss, bitrate (from
//! the difference to the previous sample), the connection's round-trip time, and a
//! connection quality level for a quality indicator and for tests.

use std::collections::HashMap;

use wasm_bindgen::JsValue;

use crate::js;

/// Which way a stream flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the SFU.
    Inbound,
    /// Sent to the SFU.
    Outbound,
}

/// One RTP stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamStats {
    /// In or out.
    pub direction: Direction,
    /// "audio" or "video".
    pub kind: String,
    /// The track's sid (remote for inbound streams, ours for outbound).
    pub track_sid: String,
    /// The media section (`mid`) the stream flows in.
    pub mid: String,
    /// The simulcast layer (outbound video).
    pub rid: String,
    /// Bytes so far.
    pub bytes: u64,
    /// Packets so far.
    pub packets: u64,
    /// Packets lost so far (inbound).
    pub packets_lost: i64,
    /// Frame size now.
    pub frame_width: u32,
    /// Frame size now.
    pub frame_height: u32,
    /// Frames decoded (inbound) or encoded (outbound) so far.
    pub frames: u64,
    /// Bits per second since the previous sample.
    pub bitrate_bps: u64,
}

/// How good the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// Little loss, short round trips.
    Excellent,
    /// Some loss or delay.
    Good,
    /// Much loss or long delay.
    Poor,
    /// Nothing flows.
    Lost,
}

impl Quality {
    /// The word a quality indicator shows, and tests read: "excellent", "good",
    /// "poor", "lost".
    pub fn word(self) -> &'static str {
        match self {
            Self::Excellent => "excellent",
            Self::Good => "good",
            Self::Poor => "poor",
            Self::Lost => "lost",
        }
    }
}

/// How media reaches the server: the selected candidate pair's local side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the server over UDP (the best path).
    DirectUdp,
    /// Straight to the server over TCP: the network blocks UDP (ICE-TCP).
    DirectTcp,
    /// Through a TURN relay: the network allows no direct path.
    Relayed,
}

/// A sample of all streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Every RTP stream.
    pub streams: Vec<StreamStats>,
    /// The selected candidate pair's round-trip time.
    pub rtt_ms: Option<f64>,
    /// How media flows, once a candidate pair is selected.
    pub route: Option<Route>,
    /// The overall level.
    pub quality: Quality,
}

/// What a connection's selected candidate pair says.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PairSample {
    /// Its round-trip time.
    pub(crate) rtt_ms: Option<f64>,
    /// Its path.
    pub(crate) route: Option<Route>,
}

/// Reads a `getStats` report into `streams`, naming its RTP streams `track_sid` (none
/// for a whole connection's report, which is read for its candidate pair only) and
/// computing bitrates against `previous` (stats id → (bytes, timestamp ms)); returns
/// what the selected candidate pair says.
pub(crate) async fn sample(
    report: js_sys::Promise,
    track_sid: Option<&str>,
    previous: &mut HashMap<String, (u64, f64)>,
    streams: &mut Vec<StreamStats>,
) -> PairSample {
    let pair = PairSample::default();
    let Ok(report) = wasm_bindgen_futures::JsFuture::from(report).await else {
        return pair;
    };
    // The pair media uses is the one the transport names (`selectedCandidatePairId`).
    // Several pairs can be nominated and succeeded at once (ICE-TCP found first, UDP
    // a moment later): picking any of them reported "over TCP" for a call on UDP.
    let mut selected_id = None;
    let mut pairs = Vec::new();
    let Some(entries) = js::call(&report, "values", &[])
        .ok()
        .and_then(|values| js_sys::try_iter(&values).ok().flatten())
    else {
        return pair;
    };
    for entry in entries.flatten() {
        let kind = js::get_str(&entry, "type").unwrap_or_default();
        if kind == "transport" {
            selected_id = js::get_str(&entry, "selectedCandidatePairId").or(selected_id);
            continue;
        }
        if kind == "candidate-pair" {
            pairs.push(entry);
            continue;
        }
        let Some(track_sid) = track_sid else { continue };
        let direction = match kind.as_str() {
            "inbound-rtp" => Direction::Inbound,
            "outbound-rtp" => Direction::Outbound,
            _ => continue,
        };
        let number = |key: &str| js::get_f64(&entry, key).unwrap_or(0.0);
        let bytes = number(if direction == Direction::Inbound {
            "bytesReceived"
        } else {
            "bytesSent"
        }) as u64;
        let id = js::get_str(&entry, "id").unwrap_or_default();
        let now = number("timestamp");
        let bitrate_bps = match previous.insert(id, (bytes, now)) {
            Some((old_bytes, old_time)) if now > old_time => {
                ((bytes.saturating_sub(old_bytes)) as f64 * 8000.0 / (now - old_time)) as u64
            }
            _ => 0,
        };
        streams.push(StreamStats {
            direction,
            kind: js::get_str(&entry, "kind").unwrap_or_default(),
            track_sid: track_sid.to_owned(),
            rid: js::get_str(&entry, "rid").unwrap_or_default(),
            mid: js::get_str(&entry, "mid").unwrap_or_default(),
            bytes,
            packets: number(if direction == Direction::Inbound {
                "packetsReceived"
            } else {
                "packetsSent"
            }) as u64,
            packets_lost: number("packetsLost") as i64,
            frame_width: number("frameWidth") as u32,
            frame_height: number("frameHeight") as u32,
            frames: number(if direction == Direction::Inbound {
                "framesDecoded"
            } else {
                "framesEncoded"
            }) as u64,
            bitrate_bps,
        });
    }
    let in_use = |p: &&JsValue| {
        js::get(p, "nominated").is_truthy()
            && js::get_str(p, "state").as_deref() == Some("succeeded")
    };
    let chosen = pairs
        .iter()
        .find(|p| selected_id.is_some() && js::get_str(p, "id") == selected_id)
        .or_else(|| pairs.iter().find(in_use));
    chosen.map_or(pair, |entry| pair_sample(&report, entry))
}

/// What one candidate pair says: its round trip, and the path of its local candidate.
fn pair_sample(report: &JsValue, entry: &JsValue) -> PairSample {
    let local = js::get_str(entry, "localCandidateId")
        .and_then(|id| js::call(report, "get", &[id.into()]).ok());
    PairSample {
        rtt_ms: js::get_f64(entry, "currentRoundTripTime").map(|s| s * 1000.0),
        route: local.as_ref().map(route_of),
    }
}

/// The path of a local candidate (`local-candidate` stats).
fn route_of(candidate: &wasm_bindgen::JsValue) -> Route {
    match (
        js::get_str(candidate, "candidateType").as_deref(),
        js::get_str(candidate, "protocol").as_deref(),
    ) {
        (Some("relay"), _) => Route::Relayed,
        (_, Some("tcp")) => Route::DirectTcp,
        _ => Route::DirectUdp,
    }
}

/// The level for these streams and this round trip.
pub(crate) fn quality(streams: &[StreamStats], rtt_ms: Option<f64>) -> Quality {
    let inbound: Vec<_> = streams
        .iter()
        .filter(|s| s.direction == Direction::Inbound)
        .collect();
    let flowing = streams.iter().any(|s| s.bitrate_bps > 0);
    if !streams.is_empty() && !flowing && streams.iter().all(|s| s.bytes > 0) {
        return Quality::Lost;
    }
    let (lost, received) = inbound.iter().fold((0i64, 0u64), |(l, r), s| {
        (l + s.packets_lost.max(0), r + s.packets)
    });
    let loss = if received > 0 {
        lost as f64 / (lost as f64 + received as f64)
    } else {
        0.0
    };
    let rtt = rtt_ms.unwrap_or(0.0);
    if loss < 0.02 && rtt < 200.0 {
        Quality::Excellent
    } else if loss < 0.05 && rtt < 400.0 {
        Quality::Good
    } else {
        Quality::Poor
    }
}
