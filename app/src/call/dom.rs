//! Browser APIs that web-sys does not bind without unstable flags (WebAudio nodes,
//! Notification, Document Picture-in-Picture), reached through `Reflect`. Each helper
//! returns `None` where the browser lacks the API, so callers degrade instead of
//! failing.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `target[key]`, or `undefined`.
pub(super) fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `target[method](...args)`, or `None` if it is not a function or it threw.
pub(super) fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Option<JsValue> {
    let function: js_sys::Function = get(target, method).dyn_into().ok()?;
    function.apply(target, &args.iter().collect::<Array>()).ok()
}

/// `new window[name](...args)`, or `None` where the browser has no such constructor.
pub(super) fn construct(name: &str, args: &[JsValue]) -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let constructor: js_sys::Function = get(&window, name).dyn_into().ok()?;
    Reflect::construct(&constructor, &args.iter().collect::<Array>()).ok()
}

/// A new `AudioContext`.
pub(super) fn audio_context() -> Option<JsValue> {
    construct("AudioContext", &[])
}

/// `window[name]` (e.g. `Notification`, `documentPictureInPicture`), if present.
pub(super) fn global(name: &str) -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let value = get(&window, name);
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// One tone: `frequency` Hz from `start` s (context time) for `length` s, fading out.
pub(super) fn tone(context: &JsValue, frequency: f64, start: f64, length: f64, volume: f64) {
    let (Some(oscillator), Some(gain)) = (
        call(context, "createOscillator", &[]),
        call(context, "createGain", &[]),
    ) else {
        return;
    };
    let _ = Reflect::set(
        &get(&oscillator, "frequency"),
        &"value".into(),
        &frequency.into(),
    );
    let level = get(&gain, "gain");
    let _ = call(&level, "setValueAtTime", &[volume.into(), start.into()]);
    let _ = call(
        &level,
        "exponentialRampToValueAtTime",
        &[0.001.into(), (start + length).into()],
    );
    let _ = call(&oscillator, "connect", std::slice::from_ref(&gain));
    let _ = call(&gain, "connect", &[get(context, "destination")]);
    let _ = call(&oscillator, "start", &[start.into()]);
    let _ = call(&oscillator, "stop", &[(start + length).into()]);
}

/// The context's clock, s.
pub(super) fn now(context: &JsValue) -> f64 {
    get(context, "currentTime").as_f64().unwrap_or(0.0)
}
