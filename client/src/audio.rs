//! Sound for call pages, on WebAudio: short tones (a test sound, a knock) and a level
//! meter on a microphone track. web-sys binds WebAudio nodes only behind unstable flags,
//! so these reach them through `Reflect`; where the browser lacks WebAudio each call
//! does nothing and the meter reads 0.

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MediaStream, MediaStreamTrack};

use crate::js::{call, get, set};

/// A new `AudioContext`, or `None` where the browser has none.
fn audio_context() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let constructor: js_sys::Function = get(&window, "AudioContext").dyn_into().ok()?;
    js_sys::Reflect::construct(&constructor, &js_sys::Array::new()).ok()
}

/// One tone on the speakers: `frequency` Hz, starting `delay` s from now, lasting
/// `length` s and fading out, at `volume` (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    /// Pitch, Hz.
    pub frequency: f64,
    /// Seconds from now.
    pub delay: f64,
    /// Seconds.
    pub length: f64,
    /// 0–1.
    pub volume: f64,
}

/// Plays `tones` on a fresh audio context; returns how many were scheduled (0 where the
/// browser has no WebAudio).
pub fn play(tones: &[Tone]) -> usize {
    let Some(context) = audio_context() else {
        return 0;
    };
    // A context made outside a click (a knock in a background tab) starts suspended.
    let _ = call(&context, "resume", &[]);
    let start = get(&context, "currentTime").as_f64().unwrap_or(0.0);
    tones
        .iter()
        .filter(|t| schedule(&context, start, t).is_some())
        .count()
}

fn schedule(context: &JsValue, now: f64, tone: &Tone) -> Option<()> {
    let oscillator = call(context, "createOscillator", &[]).ok()?;
    let gain = call(context, "createGain", &[]).ok()?;
    let (start, end) = (now + tone.delay, now + tone.delay + tone.length);
    set(&get(&oscillator, "frequency"), "value", tone.frequency);
    let level = get(&gain, "gain");
    call(
        &level,
        "setValueAtTime",
        &[tone.volume.into(), start.into()],
    )
    .ok()?;
    call(
        &level,
        "exponentialRampToValueAtTime",
        &[0.001.into(), end.into()],
    )
    .ok()?;
    call(&oscillator, "connect", std::slice::from_ref(&gain)).ok()?;
    call(&gain, "connect", &[get(context, "destination")]).ok()?;
    call(&oscillator, "start", &[start.into()]).ok()?;
    call(&oscillator, "stop", &[end.into()]).ok()?;
    Some(())
}

/// The loudness of a microphone track, for a level meter. Closes its audio graph when
/// dropped.
pub struct LevelMeter {
    context: JsValue,
    analyser: JsValue,
}

/// Samples per reading (about 10 ms at 48 kHz).
const WINDOW: u32 = 512;

impl LevelMeter {
    /// Listens to `track`; `None` where the browser has no WebAudio.
    pub fn new(track: &MediaStreamTrack) -> Option<Self> {
        let context = audio_context()?;
        let stream = MediaStream::new().ok()?;
        stream.add_track(track);
        let source = call(&context, "createMediaStreamSource", &[stream.into()]).ok()?;
        let analyser = call(&context, "createAnalyser", &[]).ok()?;
        set(&analyser, "fftSize", WINDOW);
        call(&source, "connect", std::slice::from_ref(&analyser)).ok()?;
        Some(Self { context, analyser })
    }

    /// 0–100: the loudness of the last few milliseconds.
    pub fn level(&self) -> u8 {
        let samples = Uint8Array::new_with_length(WINDOW);
        let _ = call(
            &self.analyser,
            "getByteTimeDomainData",
            &[samples.clone().into()],
        );
        level_of(&samples.to_vec())
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        let _ = call(&self.context, "close", &[]);
    }
}

/// 0–100 from unsigned 8-bit samples centred on 128 (RMS, scaled so speech reads
/// mid-scale).
fn level_of(samples: &[u8]) -> u8 {
    let power: f64 = samples
        .iter()
        .map(|&s| {
            let centred = (f64::from(s) - 128.0) / 128.0;
            centred * centred
        })
        .sum::<f64>()
        / samples.len().max(1) as f64;
    (power.sqrt() * 300.0).min(100.0) as u8
}
