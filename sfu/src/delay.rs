//! How long a forwarded packet spends inside the SFU: from its arrival (the kernel's
//! receive time where the driver has it, so the time it waited in the socket for the
//! shard's turn counts; otherwise the receive batch it came in) to its departure
//! (handed to the socket), as the SFU engine issue defines "added latency". A load
//! generator's send-to-receive delay also counts its own peers' loops; this does not.
//!
//! Sampled, so it costs nothing measurable: one outgoing packet in [`SAMPLE_EVERY`] (by
//! its rewritten sequence number) is remembered by `(SSRC, sequence number)` when it is
//! written to the subscriber's `Rtc`. When a datagram leaves the core, its RTP header
//! (cleartext in SRTP) is looked up; the driver then stamps every sampled packet of the
//! turn with one departure time ([`crate::Core::departed`]). The core never reads the
//! clock. Retransmissions and padding use other SSRCs and are not sampled. Audio and
//! video are counted apart: str0m paces video at its bandwidth estimate and sends
//! audio unpaced, so the two delays differ, and audio's is the one a visit hears.

use std::time::{Duration, Instant};

/// One outgoing packet in this many is timed.
pub const SAMPLE_EVERY: u16 = 8;

/// Packets timed but not yet sent, at most (a subscriber that never drains its queue
/// must not grow this): past it the oldest records are dropped.
const MAX_PENDING: usize = 8_192;

/// Upper bounds of the histogram's buckets, microseconds (the last bucket is open).
pub const BUCKET_BOUNDS_US: [u64; 18] = [
    50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 20_000, 50_000,
    100_000, 200_000, 500_000,
];

/// A histogram of delays, as data (the driver formats it; a benchmark subtracts two).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelayHistogram {
    /// Count per bucket of [`BUCKET_BOUNDS_US`], plus one for longer delays.
    pub buckets: [u64; BUCKET_BOUNDS_US.len() + 1],
    /// Sum of all delays, microseconds.
    pub sum_us: u64,
}

impl DelayHistogram {
    /// Counts one delay.
    pub fn record(&mut self, delay: Duration) {
        let us = delay.as_micros().min(u64::MAX as u128) as u64;
        let bucket = BUCKET_BOUNDS_US
            .iter()
            .position(|bound| us <= *bound)
            .unwrap_or(BUCKET_BOUNDS_US.len());
        self.buckets[bucket] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
    }

    /// Delays counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Adds `other`'s counts (another shard's).
    pub fn merge(&mut self, other: &DelayHistogram) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
    }
}

/// The delays of forwarded audio and of forwarded video.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardDelays {
    /// Audio packets.
    pub audio: DelayHistogram,
    /// Video packets.
    pub video: DelayHistogram,
}

impl ForwardDelays {
    /// Adds `other`'s counts (another shard's).
    pub fn merge(&mut self, other: &ForwardDelays) {
        self.audio.merge(&other.audio);
        self.video.merge(&other.video);
    }
}

/// Which media a sampled packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Audio,
    Video,
}

/// The sampled packets between arrival and departure, and what they measured.
#[derive(Debug, Default)]
pub(crate) struct ForwardDelay {
    pending: crate::FastMap<(u32, u16), (Instant, Kind)>,
    leaving: Vec<(Instant, Kind)>,
    pub(crate) delays: ForwardDelays,
}

impl ForwardDelay {
    /// A packet that arrived at `arrival` was written to a subscriber as `(ssrc, seq)`.
    pub(crate) fn written(&mut self, ssrc: u32, seq: u16, arrival: Instant, kind: Kind) {
        if !seq.is_multiple_of(SAMPLE_EVERY) {
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.clear();
        }
        self.pending.insert((ssrc, seq), (arrival, kind));
    }

    /// A datagram leaves the core: if it is a sampled RTP packet, it departs with the
    /// turn's other sampled packets.
    pub(crate) fn leaving(&mut self, datagram: &[u8]) {
        if self.pending.is_empty() {
            return;
        }
        let Some((ssrc, seq)) = rtp_ssrc_seq(datagram) else {
            return;
        };
        if !seq.is_multiple_of(SAMPLE_EVERY) {
            return;
        }
        if let Some(sampled) = self.pending.remove(&(ssrc, seq)) {
            self.leaving.push(sampled);
        }
    }

    /// The packets that left since the last call were handed to the socket by `at`.
    pub(crate) fn departed(&mut self, at: Instant) {
        for (arrival, kind) in self.leaving.drain(..) {
            let histogram = match kind {
                Kind::Audio => &mut self.delays.audio,
                Kind::Video => &mut self.delays.video,
            };
            histogram.record(at.saturating_duration_since(arrival));
        }
    }
}

/// The SSRC and sequence number of an RTP (or SRTP) packet; `None` for anything else
/// on the port (RTCP, whose second byte is a packet type of 192–223 with the marker
/// bit; STUN, DTLS; RFC 7983 and RFC 5761 §4).
pub(crate) fn rtp_ssrc_seq(datagram: &[u8]) -> Option<(u32, u16)> {
    let header = datagram.get(..12)?;
    let is_rtp_family = header[0] & 0xC0 == 0x80;
    let is_rtcp = (192..=223).contains(&header[1]);
    if !is_rtp_family || is_rtcp {
        return None;
    }
    let seq = u16::from_be_bytes([header[2], header[3]]);
    let ssrc = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    Some((ssrc, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
        let mut packet = vec![0x80, 96];
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&[0; 4]);
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(&[0xAA; 100]);
        packet
    }

    #[test]
    fn a_sampled_packet_is_timed_from_arrival_to_departure() {
        let arrival = Instant::now();
        let mut delay = ForwardDelay::default();
        delay.written(7, 16, arrival, Kind::Video);
        delay.written(8, 16, arrival, Kind::Audio);
        delay.leaving(&rtp(7, 16));
        delay.leaving(&rtp(8, 16));
        delay.departed(arrival + Duration::from_micros(420));
        let video = &delay.delays.video;
        assert_eq!(video.count(), 1);
        assert_eq!(video.sum_us, 420);
        // 420 µs falls in the (300, 500] bucket.
        assert_eq!(video.buckets[4], 1);
        assert_eq!(delay.delays.audio.count(), 1, "audio is counted apart");
    }

    #[test]
    fn packets_off_the_sample_rtcp_and_unknown_streams_are_not_timed() {
        let arrival = Instant::now();
        let mut delay = ForwardDelay::default();
        delay.written(7, 17, arrival, Kind::Video);
        delay.written(7, 24, arrival, Kind::Video);
        delay.leaving(&rtp(7, 17));
        delay.leaving(&rtp(9, 24));
        let mut rtcp = rtp(7, 24);
        rtcp[1] = 200;
        delay.leaving(&rtcp);
        delay.leaving(&[0x16, 0xfe, 0xfd]);
        delay.departed(arrival + Duration::from_millis(1));
        assert_eq!(delay.delays.video.count(), 0);
        // The one sampled packet is still waiting for its own departure.
        delay.leaving(&rtp(7, 24));
        delay.departed(arrival + Duration::from_millis(2));
        assert_eq!(delay.delays.video.count(), 1);
    }

    #[test]
    fn delays_past_the_last_bound_land_in_the_open_bucket_and_shards_merge() {
        let mut one = DelayHistogram::default();
        one.record(Duration::from_secs(2));
        let mut other = DelayHistogram::default();
        other.record(Duration::from_micros(40));
        one.merge(&other);
        assert_eq!(one.buckets[BUCKET_BOUNDS_US.len()], 1);
        assert_eq!(one.buckets[0], 1);
        assert_eq!(one.count(), 2);
    }
}
