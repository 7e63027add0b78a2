//! The RTCP feedback a receiver writes: transport-wide congestion control feedback
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01, RTPFB FMT 15) and generic NACK
//! (RFC 4585 6.2.1, RTPFB FMT 1), each a reduced-size packet on its own (RFC 5506).

/// RTPFB: transport-layer feedback.
const RTPFB: u8 = 205;
const FMT_NACK: u8 = 1;
const FMT_TRANSPORT_CC: u8 = 15;

/// How a packet is reported in transport-wide feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Not received (yet).
    Lost,
    /// Received this many 250 µs ticks after the previous received one (or the
    /// reference time, for the first).
    After(i64),
}

impl Arrival {
    /// The status symbol: 0 not received, 1 small delta (0..=255), 2 large or negative.
    fn symbol(self) -> u8 {
        match self {
            Arrival::Lost => 0,
            Arrival::After(ticks) if (0..=255).contains(&ticks) => 1,
            Arrival::After(_) => 2,
        }
    }
}

/// Starts an RTPFB packet: header (length filled in by [`finish`]), sender SSRC, media
/// SSRC. Returns where it starts.
fn start(out: &mut Vec<u8>, fmt: u8, sender_ssrc: u32, media_ssrc: u32) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0x80 | fmt, RTPFB, 0, 0]);
    out.extend_from_slice(&sender_ssrc.to_be_bytes());
    out.extend_from_slice(&media_ssrc.to_be_bytes());
    at
}

/// Pads the packet begun at `at` to 32 bits (RFC 3550 padding: P bit, the last byte
/// the count) and writes its length in words less one.
fn finish(out: &mut Vec<u8>, at: usize) {
    let pad = (4 - (out.len() - at) % 4) % 4;
    if pad > 0 {
        out.extend(std::iter::repeat_n(0, pad - 1));
        out.push(pad as u8);
        out[at] |= 0x20;
    }
    let words = ((out.len() - at) / 4 - 1) as u16;
    out[at + 2..at + 4].copy_from_slice(&words.to_be_bytes());
}

/// Writes a generic NACK for `missing` (sequence numbers, ascending) to `out`.
pub fn write_nack(out: &mut Vec<u8>, sender_ssrc: u32, media_ssrc: u32, missing: &[u16]) {
    if missing.is_empty() {
        return;
    }
    let at = start(out, FMT_NACK, sender_ssrc, media_ssrc);
    let mut rest = missing.iter().copied().peekable();
    while let Some(pid) = rest.next() {
        let mut blp = 0u16;
        while let Some(&next) = rest.peek() {
            let distance = next.wrapping_sub(pid);
            if distance == 0 || distance > 16 {
                break;
            }
            blp |= 1 << (distance - 1);
            rest.next();
        }
        out.extend_from_slice(&pid.to_be_bytes());
        out.extend_from_slice(&blp.to_be_bytes());
    }
    finish(out, at);
}

/// One transport-wide feedback packet's contents.
#[derive(Debug, Clone, Copy)]
pub struct TransportFeedback<'a> {
    /// This receiver's RTCP SSRC.
    pub sender_ssrc: u32,
    /// A media SSRC of the sender's (receivers ignore it).
    pub media_ssrc: u32,
    /// The transport-wide sequence number of `arrivals[0]`.
    pub base_seq: u16,
    /// The reference time, in 64 ms units (24 bits).
    pub reference_time: u32,
    /// Counts the feedback packets sent (wraps).
    pub count: u8,
    /// Each packet from `base_seq` on, in order.
    pub arrivals: &'a [Arrival],
}

impl TransportFeedback<'_> {
    /// Appends the packet to `out`: run-length chunks for runs of 14 or more, one-bit
    /// vectors of 14 where no delta is large, two-bit vectors of 7 elsewhere.
    pub fn write(&self, out: &mut Vec<u8>) {
        let at = start(out, FMT_TRANSPORT_CC, self.sender_ssrc, self.media_ssrc);
        out.extend_from_slice(&self.base_seq.to_be_bytes());
        out.extend_from_slice(&(self.arrivals.len() as u16).to_be_bytes());
        let reference = ((self.reference_time & 0x00ff_ffff) << 8) | u32::from(self.count);
        out.extend_from_slice(&reference.to_be_bytes());
        let symbols: Vec<u8> = self.arrivals.iter().map(|a| a.symbol()).collect();
        let mut i = 0;
        while i < symbols.len() {
            let run = symbols[i..]
                .iter()
                .take(0x1fff)
                .take_while(|s| **s == symbols[i])
                .count();
            let chunk: u16 = if run >= 14 || i + run == symbols.len() && run >= 7 {
                i += run;
                (u16::from(symbols[i - run]) << 13) | run as u16
            } else {
                let next14 = &symbols[i..(i + 14).min(symbols.len())];
                if next14.iter().all(|s| *s < 2) {
                    i += next14.len();
                    next14
                        .iter()
                        .enumerate()
                        .fold(0x8000, |c, (k, s)| c | (u16::from(*s) << (13 - k)))
                } else {
                    let next7 = &symbols[i..(i + 7).min(symbols.len())];
                    i += next7.len();
                    next7
                        .iter()
                        .enumerate()
                        .fold(0xc000, |c, (k, s)| c | (u16::from(*s) << (12 - 2 * k)))
                }
            };
            out.extend_from_slice(&chunk.to_be_bytes());
        }
        for arrival in self.arrivals {
            match *arrival {
                Arrival::Lost => {}
                Arrival::After(ticks) if (0..=255).contains(&ticks) => out.push(ticks as u8),
                Arrival::After(ticks) => {
                    let ticks = ticks.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
                    out.extend_from_slice(&ticks.to_be_bytes());
                }
            }
        }
        finish(out, at);
    }
}

#[cfg(test)]
#[path = "rtcp_test.rs"]
mod tests;
