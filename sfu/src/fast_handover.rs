//! The hand-over of a publisher's stream from str0m to the path beside it
//! (`fast_rx.rs`): after str0m opened a stream's first packet, its later packets, and
//! those of its repair stream once str0m knows it, are opened beside str0m.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::time::Instant;

use bedside_media::feedback::{NackTracker, TwccReceiver};
use bedside_media::index::ReceivedIndex;
use bedside_media::keys::KeySlot;
use bedside_media::srtcp::RtcpProtector;
use bedside_media::srtp::RtpUnprotector;
use str0m::media::{Mid, Pt, Rid};
use str0m::rtp::RtpPacket;

use super::super::fast_streams::{ExtIds, MediaState, RxStream, StreamKind};
use super::super::participant::Peer;
use super::FastReceive;

impl Peer {
    /// Hands the stream of `packet` (str0m just received it) to the path beside str0m,
    /// with its repair stream once str0m knows it: str0m's NACKs for it stop, and its
    /// packets from the next on are opened here. Nothing for a peer whose keys this
    /// path cannot use.
    pub(crate) fn hand_over_stream(
        &mut self,
        packet: &RtpPacket,
        (mid, rid): (Mid, Option<Rid>),
        origin: Instant,
    ) {
        let ssrc = *packet.header.ssrc;
        if self.fast.is_none() {
            let Some(keys) = self.keys.as_ref().and_then(KeySlot::get) else {
                return;
            };
            let (Some(receiving), Some(sending)) = (keys.receiving(), keys.sending()) else {
                // Not a profile this path opens: str0m keeps the peer.
                self.keys = None;
                return;
            };
            let provider = bedside_media::keys::capturing_provider();
            self.fast = Some(Box::new(FastReceive {
                opener: RtpUnprotector::new(&provider, receiving.0, receiving.1, receiving.2),
                rtcp: RtcpProtector::new(&provider, sending.0, sending.1, sending.2),
                sender_ssrc: ssrc ^ 0x5eed_f00d,
                streams: BTreeMap::new(),
                twcc: TwccReceiver::default(),
                twcc_id: None,
                remote: None,
                next_feedback: None,
                next_twcc: None,
                origin,
                received: (0, 0),
                scratch: Vec::new(),
            }));
        }
        let Some(fast) = self.fast.as_mut() else {
            return;
        };
        let Some(media) = self.rtc.media(mid) else {
            return;
        };
        let ids = ExtIds::of(media.remote_extmap());
        fast.twcc_id = fast.twcc_id.or(ids.transport_cc);
        let hz = self
            .rtc
            .codec_config()
            .params()
            .iter()
            .find(|p| p.pt() == packet.header.payload_type)
            .map_or(90_000, |p| p.spec().clock_rate.get());
        let repair_pts: Vec<(Pt, Pt)> = self
            .rtc
            .codec_config()
            .params()
            .iter()
            .filter_map(|p| p.resend().map(|rtx| (rtx, p.pt())))
            .collect();
        let mut api = self.rtc.direct_api();
        let Some(stream) = api.stream_rx(&packet.header.ssrc) else {
            return;
        };
        stream.suppress_nack(true);
        let repair = stream.rtx().map(|s| *s);
        // Already here when str0m opened a late repair of it (before the repair stream
        // was known): only the repair stream is new then.
        if let Entry::Vacant(slot) = fast.streams.entry(ssrc) {
            let highest = *packet.seq_no;
            let mut nacks = NackTracker::default();
            nacks.record(highest, packet.timestamp);
            let state = MediaState {
                time: packet.time.numer(),
                nacks,
                hz,
                jitter16: 0,
                transit: None,
                origin: packet.timestamp,
                highest,
                highest_at_stats: highest,
                received_since_stats: 0,
            };
            slot.insert(RxStream {
                mid,
                rid,
                ids,
                index: ReceivedIndex::after(highest),
                kind: StreamKind::Media(Box::new(state)),
            });
        }
        if let Some(repair) = repair
            && !fast.streams.contains_key(&repair)
        {
            fast.streams.insert(
                repair,
                RxStream {
                    mid,
                    rid,
                    ids,
                    index: ReceivedIndex::default(),
                    kind: StreamKind::Repair {
                        media: ssrc,
                        pts: repair_pts,
                    },
                },
            );
        }
    }
}
