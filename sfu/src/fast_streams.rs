//! The streams the path beside str0m (`fast_rx.rs`) has taken over: what each SSRC
//! needs to open its packets, restore a repair's original, pass the header extensions
//! on, and count for feedback and stats; and how its datagrams are told apart from
//! str0m's.

use std::collections::VecDeque;
use std::time::Instant;

use super::core::CoreOutput;
use bedside_media::feedback::NackTracker;
use bedside_media::index::ReceivedIndex;
use bedside_media::rtp::ReadHeader;
use str0m::media::{Mid, Pt, Rid};
use str0m::rtp::{Extension, ExtensionMap, ExtensionValues, VideoOrientation};

/// One SSRC handed over, a media stream or its repair stream.
pub(crate) struct RxStream {
    pub(crate) mid: Mid,
    pub(crate) rid: Option<Rid>,
    pub(crate) ids: ExtIds,
    pub(crate) index: ReceivedIndex,
    pub(crate) kind: StreamKind,
}

pub(crate) enum StreamKind {
    /// A media stream.
    Media(Box<MediaState>),
    /// A repair stream: the media stream's SSRC, and its payload types (repair's, original's).
    Repair { media: u32, pts: Vec<(Pt, Pt)> },
}

/// The header extensions the forwarder passes on, by their negotiated ids.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExtIds {
    pub(crate) audio_level: Option<u8>,
    pub(crate) video_orientation: Option<u8>,
    pub(crate) video_content_type: Option<u8>,
    pub(crate) transport_cc: Option<u8>,
}

impl ExtIds {
    pub(crate) fn of(map: &ExtensionMap) -> Self {
        Self {
            audio_level: map.id_of(Extension::AudioLevel),
            video_orientation: map.id_of(Extension::VideoOrientation),
            video_content_type: map.id_of(Extension::VideoContentType),
            transport_cc: map.id_of(Extension::TransportSequenceNumber),
        }
    }

    /// The values str0m's parser would have given (`ext.rs` there).
    pub(crate) fn read(&self, header: &ReadHeader) -> (ExtensionValues, Option<u16>) {
        let value = |id: Option<u8>| id.and_then(|id| header.extension(id));
        let mut ext = ExtensionValues::default();
        if let Some(&[level, ..]) = value(self.audio_level) {
            ext.audio_level = Some(-((level & 0x7f) as i8));
            ext.voice_activity = Some(level & 0x80 != 0);
        }
        if let Some(&[rotation, ..]) = value(self.video_orientation) {
            ext.video_orientation = Some(VideoOrientation::from(rotation));
        }
        if let Some(&[content, ..]) = value(self.video_content_type) {
            ext.video_content_type = Some(content);
        }
        let twcc = match value(self.transport_cc) {
            Some(&[high, low, ..]) => Some(u16::from_be_bytes([high, low])),
            _ => None,
        };
        (ext, twcc)
    }
}

/// What a media stream's feedback and stats need.
pub(crate) struct MediaState {
    /// Extended RTP time of the highest packet.
    pub(crate) time: u64,
    pub(crate) nacks: NackTracker,
    /// Clock rate, for jitter.
    pub(crate) hz: u32,
    /// RFC 3550 interarrival jitter, in clock ticks (x16, as its appendix A.8 keeps it).
    pub(crate) jitter16: u64,
    /// Transit time of the previous packet, in clock ticks.
    pub(crate) transit: Option<i64>,
    /// Where arrival times are counted from, for transit times.
    pub(crate) origin: Instant,
    /// Highest extended sequence number, and its value at the last stats.
    pub(crate) highest: u64,
    pub(crate) highest_at_stats: u64,
    pub(crate) received_since_stats: u64,
}

impl MediaState {
    /// RFC 3550 6.4.1 and A.8: interarrival jitter, from each packet's transit time.
    pub(crate) fn record_transit(&mut self, now: Instant, time: u64) {
        // Arrival in clock ticks from an arbitrary origin: only differences count.
        let micros = now.saturating_duration_since(self.origin).as_micros() as i64;
        let arrival = micros * i64::from(self.hz) / 1_000_000;
        let transit = arrival - time as i64;
        if let Some(previous) = self.transit.replace(transit) {
            let d = (transit - previous).unsigned_abs();
            self.jitter16 = self.jitter16 + d - ((self.jitter16 + 8) >> 4);
        }
    }
}

/// Extends a `bits`-wide wrapping `value` to the 64-bit value nearest `reference`.
pub(crate) fn extend(reference: u64, bits: u32, value: u64) -> u64 {
    let modulus = 1u64 << bits;
    let half = modulus / 2;
    let base = reference & !(modulus - 1);
    let candidate = base | value;
    if candidate + half < reference {
        candidate + modulus
    } else if candidate > reference + half && candidate >= modulus {
        candidate - modulus
    } else {
        candidate
    }
}

/// Drops the transport-wide feedback str0m wrote (`outputs` from `start` on) for a peer
/// whose receive side runs here. str0m sees only the packets it still takes, so its
/// feedback would call every packet opened here between two of them lost; a browser
/// that hears that first counts the loss, and its send estimate falls (the publisher's
/// low layer fell to half its rate in `rtc-turn.spec.ts`, and the visit console's
/// clinician was graded poor). This path's feedback reports every packet. Told apart in
/// the clear: SRTCP leaves an RTCP packet's first 8 bytes unencrypted, and str0m sends
/// transport-wide feedback alone, never in a compound.
pub(crate) fn drop_str0m_transport_feedback(outputs: &mut VecDeque<CoreOutput>, start: usize) {
    let mut index = start;
    while index < outputs.len() {
        let feedback = matches!(
            &outputs[index],
            CoreOutput::Transmit(t) if t.contents.len() >= 8
                && t.contents[1] == 205
                && t.contents[0] & 0x1f == 15
                && t.contents[0] >> 6 == 2
        );
        if feedback {
            outputs.remove(index);
        } else {
            index += 1;
        }
    }
}

/// Whether `data` is RTP (not RTCP, STUN or DTLS): version 2, and a second byte
/// outside RTCP's 192..=223 (RFC 5761 4).
pub(crate) fn is_rtp(data: &[u8]) -> bool {
    data.len() >= 12 && data[0] >> 6 == 2 && !(192..=223).contains(&data[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_sequence_number_or_timestamp_extends_to_the_nearest_value() {
        // Forward across a wrap, backward across it, and in the middle.
        assert_eq!(extend(65_535, 16, 2), 65_538);
        assert_eq!(extend(65_538, 16, 65_535), 65_535);
        assert_eq!(extend((3 << 16) | 100, 16, 90), (3 << 16) | 90);
        assert_eq!(extend(u64::from(u32::MAX) - 10, 32, 5), (1 << 32) + 5);
        assert_eq!(
            extend(5, 16, 65_530),
            65_530,
            "nothing below zero to wrap back to"
        );
    }

    #[test]
    fn header_extensions_read_as_str0m_reads_them() {
        let mut map = ExtensionMap::empty();
        map.set(1, Extension::AudioLevel);
        map.set(3, Extension::TransportSequenceNumber);
        map.set(4, Extension::VideoOrientation);
        let ids = ExtIds::of(&map);
        let mut packet = Vec::new();
        let header_len = bedside_media::rtp::RtpHeader {
            marker: false,
            payload_type: 111,
            sequence: 1,
            timestamp: 2,
            ssrc: 3,
            extensions: &[(1, &[0x80 | 42]), (3, &[0x12, 0x34]), (4, &[1])],
        }
        .write(&mut packet);
        packet.push(0);
        let header = ReadHeader::parse(&packet).unwrap();
        assert_eq!(header.header_len, header_len);
        let (ext, twcc) = ids.read(&header);
        assert_eq!(ext.audio_level, Some(-42));
        assert_eq!(ext.voice_activity, Some(true));
        assert_eq!(ext.video_orientation, Some(VideoOrientation::from(1)));
        assert_eq!(ext.video_content_type, None);
        assert_eq!(twcc, Some(0x1234));
    }
}
