//! Browser APIs that web-sys does not bind without unstable flags (Notification,
//! Document Picture-in-Picture), reached through `Reflect`. Each helper
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

/// `window[name]` (e.g. `Notification`, `documentPictureInPicture`), if present.
pub(super) fn global(name: &str) -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let value = get(&window, name);
    (!value.is_undefined() && !value.is_null()).then_some(value)
}
