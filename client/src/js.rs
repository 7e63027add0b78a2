//! Small helpers over `js_sys`/`web_sys`: plain objects as dictionaries, the clock,
//! timers as futures, and reading properties without panicking.
//!
//! WebRTC's dictionaries (`RTCConfiguration`, constraints, encodings) are built as plain
//! objects through `Reflect` rather than web-sys's generated setters: the browser reads
//! them by name either way, and this keeps the code independent of which dictionary
//! fields a given web-sys release happens to bind (e.g. `maxFramerate`).

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A plain object with these properties.
pub(crate) fn obj(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// `target[key]`, or `undefined`.
pub(crate) fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` as a number.
pub(crate) fn get_f64(target: &JsValue, key: &str) -> Option<f64> {
    get(target, key).as_f64()
}

/// `target[key]` as a string.
pub(crate) fn get_str(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// The property that marks an element [`play`] already watches.
const RESUME_KEY: &str = "__bedsideResume";

/// How long a paused, detached element is waited for (100 ms checks).
const RESUME_CHECKS: u32 = 100;

/// Starts `element` playing, and keeps it playing when the page takes it off the
/// document and puts it back: the browser pauses a media element that leaves its
/// document, and nothing would restart it (a re-rendered page, a dock moved to a
/// picture-in-picture window). A refusal (an autoplay policy for sound, a newer
/// source) is marked `play-refused` instead of surfacing as an unhandled rejection.
pub(crate) fn play(element: &web_sys::HtmlMediaElement) {
    start(element);
    if get(element, RESUME_KEY).is_truthy() {
        return;
    }
    // The listener finds its element through the event, so it holds no handle that
    // would keep a discarded element alive; the element owns the listener.
    let on_pause = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
        if let Some(element) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlMediaElement>().ok())
            && !get(&element, "isConnected").is_truthy()
        {
            wasm_bindgen_futures::spawn_local(resume_when_connected(element));
        }
    })
    .into_js_value();
    let _ = element.add_event_listener_with_callback("pause", on_pause.unchecked_ref());
    set(element, RESUME_KEY, on_pause);
}

fn start(element: &web_sys::HtmlMediaElement) {
    let Ok(promise) = element.play() else {
        return mark("play-refused");
    };
    wasm_bindgen_futures::spawn_local(async move {
        if JsFuture::from(promise).await.is_err() {
            mark("play-refused");
        }
    });
}

/// Plays a detached element again once it is back in a document, unless its source
/// went away or it stays out for ten seconds.
async fn resume_when_connected(element: web_sys::HtmlMediaElement) {
    for _ in 0..RESUME_CHECKS {
        sleep(100).await;
        if element.src_object().is_none() {
            return;
        }
        if get(&element, "isConnected").is_truthy() {
            if element.paused() {
                mark("play-resumed");
                start(&element);
            }
            return;
        }
    }
}

/// Sets `target[key] = value`.
pub(crate) fn set(target: &JsValue, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}

/// Calls `target.method(args...)` and returns its result.
pub(crate) fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: Function = get(target, method).dyn_into()?;
    function.apply(target, &args.iter().collect::<Array>())
}

/// Awaits a promise-returning method call.
pub(crate) async fn call_async(
    target: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let promise: Promise = call(target, method, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// Milliseconds on the page's monotonic clock.
pub(crate) fn now_ms() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() as u64)
        .unwrap_or(0)
}

/// A future that resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: u64) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ =
                window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// A random number in `[0, 1)`, for retry jitter.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// The message of a JS exception (`DOMException.name: message`).
pub(crate) fn describe(error: &JsValue) -> (String, String) {
    let name = get_str(error, "name").unwrap_or_default();
    let message = get_str(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_default();
    (name, message)
}

/// Keeps a closure alive as long as its owner and gives JS a function for it.
pub(crate) struct Callback<T: ?Sized> {
    closure: Closure<T>,
}

impl<T: ?Sized + wasm_bindgen::closure::WasmClosure> Callback<T> {
    /// Wraps `closure`.
    pub(crate) fn new(closure: Closure<T>) -> Self {
        Self { closure }
    }

    /// The JS function.
    pub(crate) fn function(&self) -> &Function {
        self.closure.as_ref().unchecked_ref()
    }
}

/// A User Timing mark (`performance.mark("bedside:<name>")`): the milestones of joining
/// and publishing show in the browser's performance panel and can be read by a
/// benchmark. Names only, never anything about a person.
pub(crate) fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = call(&performance, "mark", &[format!("bedside:{name}").into()]);
    }
}
