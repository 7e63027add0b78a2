//! What the send path beside str0m (`fast_tx.rs`) does with what str0m itself sends
//! on the transport: before the path starts, where str0m sends to and the last
//! transport-wide number its padding used; after, str0m's RTP is dropped (its numbers
//! skipped) and its sender reports carry this path's sender information.

use std::collections::VecDeque;
use std::time::Instant;

use bedside_media::rtp::ReadHeader;
use str0m::Rtc;
use str0m::media::Mid;
use str0m::rtp::Extension;

use super::super::core::CoreOutput;
use super::super::participant::Peer;
use super::FastSend;

/// The transport-wide sequence number's id in `rtc`'s session, read from section `mid`.
pub(crate) fn twcc_id_of(rtc: &Rtc, mid: Mid) -> Option<u8> {
    rtc.media(mid)?
        .remote_extmap()
        .id_of(Extension::TransportSequenceNumber)
}

/// The transport-wide number in an RTP packet str0m is sending, if it has one.
pub(crate) fn str0m_twcc(rtc: &mut Rtc, data: &[u8]) -> Option<u16> {
    let header = ReadHeader::parse(data)?;
    let mid = rtc
        .direct_api()
        .stream_tx(&header.ssrc.into())
        .map(|s| s.mid())?;
    let value = header.extension(twcc_id_of(rtc, mid)?)?;
    Some(u16::from_be_bytes([*value.first()?, *value.get(1)?]))
}

/// `a` is after `b` in 16-bit sequence space.
pub(crate) fn twcc_after(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

/// Records that str0m sent sequence number `seq` on `ssrc` (kept extended, highest).
pub(crate) fn note_sequence(seqs: &mut std::collections::BTreeMap<u32, u64>, ssrc: u32, seq: u16) {
    let entry = seqs.entry(ssrc).or_insert(u64::from(seq));
    let extended = super::super::fast_streams::extend(*entry, 16, u64::from(seq));
    *entry = (*entry).max(extended);
}

impl Peer {
    /// Before its sending goes beside str0m: notes where str0m sends to and the
    /// transport-wide numbers its padding used (`outputs` from `start`).
    pub(crate) fn watch_str0m_outputs(&mut self, outputs: &VecDeque<CoreOutput>, start: usize) {
        for output in outputs.iter().skip(start) {
            let CoreOutput::Transmit(transmit) = output else {
                continue;
            };
            let data = &transmit.contents[..];
            let dtls = data.first().is_some_and(|b| (20..=63).contains(b));
            let rtp_or_rtcp = data.len() >= 8 && data[0] >> 6 == 2;
            if dtls || rtp_or_rtcp {
                self.last_remote = Some((transmit.proto, transmit.source, transmit.destination));
            }
            if super::super::fast_streams::is_rtp(data)
                && let Some(header) = ReadHeader::parse(data)
            {
                note_sequence(&mut self.str0m_seqs, header.ssrc, header.sequence);
            }
            if super::super::fast_streams::is_rtp(data)
                && let Some(seq) = str0m_twcc(&mut self.rtc, data)
                && self.str0m_twcc.is_none_or(|last| twcc_after(seq, last))
            {
                self.str0m_twcc = Some(seq);
            }
        }
    }
}

impl FastSend {
    /// Goes over what str0m just queued for this transport (`outputs` from `start`):
    /// learns where the subscriber is, drops str0m's own RTP (padding: nothing else
    /// is written to it) after skipping its transport-wide number, and rewrites the
    /// sender information in its sender reports from what left here.
    pub(crate) fn take_str0m_outputs(
        &mut self,
        now: Instant,
        outputs: &mut VecDeque<CoreOutput>,
        start: usize,
    ) {
        let mut index = start;
        while index < outputs.len() {
            let CoreOutput::Transmit(transmit) = &mut outputs[index] else {
                index += 1;
                continue;
            };
            let data = &transmit.contents[..];
            let dtls = data.first().is_some_and(|b| (20..=63).contains(b));
            let rtp_or_rtcp = data.len() >= 8 && data[0] >> 6 == 2;
            if dtls || rtp_or_rtcp {
                self.remote = Some((transmit.proto, transmit.source, transmit.destination));
            }
            if rtp_or_rtcp && !(192..=223).contains(&data[1]) {
                if let Some(header) = ReadHeader::parse(data) {
                    note_sequence(&mut self.str0m_seqs, header.ssrc, header.sequence);
                    if let Some(id) = self.twcc_id
                        && let Some(&[high, low, ..]) = header.extension(id)
                    {
                        self.sender.skip_past_twcc(u16::from_be_bytes([high, low]));
                    }
                }
                outputs.remove(index);
                continue;
            }
            if rtp_or_rtcp && let Some(rewritten) = self.rewrite_sender_reports(now, data) {
                transmit.contents = rewritten.into();
            }
            index += 1;
        }
    }

    /// str0m's SRTCP packet `data` with the sender information of this path's streams
    /// written into its sender reports; `None` when it has none of them.
    fn rewrite_sender_reports(&mut self, now: Instant, data: &[u8]) -> Option<Vec<u8>> {
        let mut plain = std::mem::take(&mut self.plain);
        let index = self.own_rtcp.open(data, &mut plain).ok();
        let mut changed = false;
        let mut at = 0;
        while index.is_some() && at + 4 <= plain.len() {
            let len = (usize::from(u16::from_be_bytes([plain[at + 2], plain[at + 3]])) + 1) * 4;
            if at + len > plain.len() {
                break;
            }
            if plain[at + 1] == 200 && len >= 28 {
                let ssrc = u32::from_be_bytes([
                    plain[at + 4],
                    plain[at + 5],
                    plain[at + 6],
                    plain[at + 7],
                ]);
                if let Some(info) = self.sender.sender_info(now, ssrc) {
                    plain[at + 16..at + 20].copy_from_slice(&info.rtp_time.to_be_bytes());
                    plain[at + 20..at + 24].copy_from_slice(&info.packets.to_be_bytes());
                    plain[at + 24..at + 28].copy_from_slice(&info.octets.to_be_bytes());
                    changed = true;
                }
            }
            at += len;
        }
        let mut out = None;
        if let (true, Some(index)) = (changed, index) {
            let mut sealed = Vec::with_capacity(data.len());
            if self.own_rtcp.seal_at(&plain, index, &mut sealed).is_ok() {
                out = Some(sealed);
            }
        }
        self.plain = plain;
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bedside_media::estimate::LinkEstimator;
    use bedside_media::keys::Profile;
    use bedside_media::send::{Outgoing, RtpSender, StreamSetup};
    use bedside_media::srtcp::{RtcpProtector, RtcpRewriter, RtcpUnprotector};
    use bedside_media::srtp::RtpProtector;

    use super::FastSend;

    const KEY: [u8; 16] = [3; 16];
    const SALT: [u8; 12] = [5; 12];
    const AUDIO: u32 = 0xa0d1;

    /// A sender report as str0m writes one for a stream it never sent on: RTP time 0,
    /// no packets.
    fn str0m_sender_report(ssrc: u32) -> Vec<u8> {
        let mut report = vec![0x80, 200, 0, 6];
        report.extend_from_slice(&ssrc.to_be_bytes());
        report.extend_from_slice(&[0x11; 8]);
        report.extend_from_slice(&[0; 12]);
        report
    }

    #[test]
    fn str0m_sender_reports_carry_the_rtp_time_and_counts_of_what_left_beside_it() {
        let provider = str0m::crypto::from_feature_flags();
        let profile = Profile::AeadAes128Gcm;
        let now = Instant::now();
        let mut sender = RtpSender::new(
            RtpProtector::new(&provider, profile, &KEY, &SALT),
            RtcpProtector::new(&provider, profile, &KEY, &SALT),
            Some(3),
            LinkEstimator::new(now, 1_000_000, 30_000, 10_000_000),
        );
        sender.add_stream(StreamSetup {
            ssrc: AUDIO,
            clock_hz: 48_000,
            repair: None,
        });
        let payload: Arc<[u8]> = Arc::from(&[7u8; 60][..]);
        let packet = Outgoing {
            ssrc: AUDIO,
            payload_type: 111,
            index: 10,
            timestamp: 96_000,
            marker: false,
            extensions: &[],
            payload: &payload,
            head: &[],
        };
        sender.send(now, &packet, &mut Vec::new()).unwrap();
        let mut send = FastSend::new(
            now,
            sender,
            RtcpUnprotector::new(&provider, profile, &KEY, &SALT),
            RtcpRewriter::new(&provider, profile, &KEY, &SALT),
            Some(3),
        );
        // str0m's SRTCP index runs on its own; the rewrite keeps it.
        let mut str0m = RtcpProtector::new(&provider, profile, &KEY, &SALT);
        let mut sealed = Vec::new();
        for _ in 0..3 {
            sealed.clear();
            str0m
                .protect(&str0m_sender_report(AUDIO), &mut sealed)
                .unwrap();
        }
        let later = now + Duration::from_millis(100);
        let rewritten = send
            .rewrite_sender_reports(later, &sealed)
            .expect("a report of a stream sent beside str0m is rewritten");
        assert_eq!(
            rewritten[rewritten.len() - 4..],
            sealed[sealed.len() - 4..],
            "same index"
        );
        let mut opened = Vec::new();
        RtcpUnprotector::new(&provider, profile, &KEY, &SALT)
            .unprotect(&rewritten, &mut opened)
            .expect("the subscriber opens it");
        let word = |at: usize| u32::from_be_bytes(opened[at..at + 4].try_into().unwrap());
        assert_eq!(word(8), 0x1111_1111, "str0m's wall-clock time is kept");
        assert_eq!(
            word(16),
            96_000 + 4_800,
            "100 ms after the last packet, at 48 kHz"
        );
        assert_eq!((word(20), word(24)), (1, 60), "one packet of 60 bytes");
        sealed.clear();
        str0m
            .protect(&str0m_sender_report(0xbeef), &mut sealed)
            .unwrap();
        assert!(
            send.rewrite_sender_reports(later, &sealed).is_none(),
            "str0m's own streams' reports pass unchanged"
        );
    }
}
