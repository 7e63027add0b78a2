//! Draining one str0m peer connection: its transmits and events, with its own send
//! timers run inline (see [`TIMER_HORIZON`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use str0m::{Input, Output};

use super::core::CoreOutput;

/// How far ahead of the turn's clock a timer may be and still run in the same poll
/// ([`poll_rtc`]).
///
/// str0m's pacer releases one packet per timer pass: after each packet it asks for a
/// timeout one microsecond later ("time must advance between packets"), and only that
/// pass lets the next packet out. A turn reads the clock once, and its work takes far
/// longer than a microsecond per packet (tens), so such a timer is already due in truth
/// when it is asked for. Left to the driver's next turn, a subscriber's burst (a frame's
/// packets from one receive batch) would leave one packet per loop turn, each turn a
/// full pass over the shard: measured at 16 visits with forwarding unpaced, that cost
/// 45% more CPU and put the audio waiting behind it at 9 ms p99 (1.6 ms paced).
/// Send timers within this horizon run at once, as if the clock had been read again:
/// the pacer's, and a send stream's (a written packet asks for one so that the pacer
/// sees it queued). Only those: a turn's received packets all carry the time its batch
/// was read, so running other timers early could only move them further from what
/// they time. str0m's clock never goes back (it ignores older times than it has seen).
pub(crate) const TIMER_HORIZON: Duration = Duration::from_micros(250);

/// Most timer passes one poll runs before it leaves the rest to the driver: a bound
/// should a timer ask for itself again at the same instant.
const MAX_INLINE_TIMERS: usize = 512;

/// Drains an `Rtc` into transmits and events until it returns a timeout that is not a
/// send timer within [`TIMER_HORIZON`] of `now` (those are run here, see there).
pub(crate) fn poll_rtc(
    now: Instant,
    rtc: &mut str0m::Rtc,
    outputs: &mut VecDeque<CoreOutput>,
    events: &mut Vec<str0m::Event>,
) -> Option<Instant> {
    let horizon = now + TIMER_HORIZON;
    let mut inline = 0;
    loop {
        match rtc.poll_output() {
            Ok(Output::Transmit(t)) => outputs.push_back(CoreOutput::Transmit(t)),
            Ok(Output::Event(e)) => events.push(e),
            Ok(Output::Timeout(t))
                if t <= horizon
                    && inline < MAX_INLINE_TIMERS
                    && matches!(
                        rtc.last_timeout_reason(),
                        str0m::Reason::Pacer(_) | str0m::Reason::SendStream
                    ) =>
            {
                inline += 1;
                if let Err(error) = rtc.handle_input(Input::Timeout(t)) {
                    disconnect_failed(rtc, &error, "sfu peer input failed");
                    return None;
                }
            }
            Ok(Output::Timeout(t)) => return Some(t),
            Err(error) => {
                disconnect_failed(rtc, &error, "sfu peer failed");
                return None;
            }
        }
    }
}

/// Ends a peer str0m failed on. str0m errors can quote SDP or addresses: their text
/// stays at debug level, and `what` is what the info line says.
pub(crate) fn disconnect_failed(rtc: &mut str0m::Rtc, error: &str0m::RtcError, what: &'static str) {
    tracing::info!("{what}");
    tracing::debug!(%error, "{what}");
    rtc.disconnect();
}
