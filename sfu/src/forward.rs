//! Forwarding: RTP packets to subscribers (keyframe requests back are in `keyframes.rs`,
//! the peer events that set it up in `peer_events.rs`). Layer choice for simulcast lives
//! here as a pure function.

use std::time::{Duration, Instant};

use std::sync::Arc;

use str0m::media::{MediaKind, Mid, Pt, Rid};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};

use super::rtp_out::{InPacket, Mapping, SectionOut, Vp8Ids};

use super::core::{ConnId, Core};
use super::delay::Kind;
use super::participant::{DownState, Side};

/// One received RTP packet, as the forwarder takes it from str0m or from the path
/// beside it (`fast_rx.rs`).
#[derive(Debug)]
pub(crate) struct Received {
    /// The publisher's receive section.
    pub(crate) mid: Mid,
    /// Its simulcast layer.
    pub(crate) rid: Option<Rid>,
    /// Its payload type (a repair's is the original's).
    pub(crate) pt: Pt,
    /// Extended sequence number on its stream.
    pub(crate) seq: u64,
    /// Extended RTP time.
    pub(crate) time: u64,
    pub(crate) marker: bool,
    /// Its header extensions' values.
    pub(crate) ext: ExtensionValues,
    /// The payload, shared by every subscriber's copy.
    pub(crate) payload: Arc<[u8]>,
    /// When it reached the SFU.
    pub(crate) arrival: Instant,
}

/// A layer silent this long is considered stopped (the encoder paused it).
pub(crate) const LAYER_STALE_AFTER: Duration = Duration::from_millis(1500);
/// Audio reserved out of a subscriber's downlink before video is shared out.
pub(crate) const AUDIO_ALLOWANCE_BPS: u64 = 64_000;

/// Quality rank of a simulcast layer: `q` 0, `h` 1, `f` 2; no simulcast 0.
pub(crate) fn layer_rank(rid: Option<&Rid>) -> u8 {
    // Compared as ids: reading a `Rid` as `&str` checks UTF-8 and trims it, and this runs
    // per packet and per layer (0.4% of the SFU's time at 128 visits).
    const H: Rid = Rid::from_array(*b"h       ");
    const F: Rid = Rid::from_array(*b"f       ");
    match rid {
        Some(r) if *r == H => 1,
        Some(r) if *r == F => 2,
        _ => 0,
    }
}

/// What to do with one frame for one subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LayerDecision {
    /// Forward it (switching to its layer first if it is not the current one).
    Forward,
    /// Drop it.
    Drop,
    /// Drop it and ask the publisher for a keyframe on this frame's layer.
    DropWantKeyframe,
}

/// Chooses for one frame of layer `frame` (`keyframe` or not) given the subscriber's
/// `current` layer (`None`: nothing forwarded yet), whether `current` went stale, whether
/// some layer at or below `target` is active, and the selector's `target` rank. Switches
/// happen only on a keyframe of the new layer; until then the current layer flows on.
pub(crate) fn choose_layer(
    current: Option<&Option<Rid>>,
    frame: &Option<Rid>,
    keyframe: bool,
    current_stale: bool,
    target_layer_active: bool,
    needs_keyframe: bool,
    target: u8,
) -> LayerDecision {
    let rank = layer_rank(frame.as_ref());
    if current == Some(frame) {
        return match (needs_keyframe, keyframe) {
            (true, false) => LayerDecision::DropWantKeyframe,
            _ => LayerDecision::Forward,
        };
    }
    let acceptable = rank <= target || !target_layer_active;
    let better = match current {
        None => true,
        Some(cur) => {
            let cur_rank = layer_rank(cur.as_ref());
            current_stale || (rank <= target && (cur_rank > target || rank > cur_rank))
        }
    };
    match (acceptable && better, keyframe) {
        (true, true) => LayerDecision::Forward,
        (true, false) => LayerDecision::DropWantKeyframe,
        (false, _) => LayerDecision::Drop,
    }
}

/// The rid of a rank among a track's layers (`None` without simulcast).
pub(crate) fn rid_of_rank(rids: &[Rid], rank: u8) -> Option<Rid> {
    rids.iter().copied().find(|r| layer_rank(Some(r)) == rank)
}

impl Core {
    /// One RTP packet from a publisher that str0m received (the first of each stream,
    /// and all of a peer whose SRTP profile the path beside str0m does not open): its
    /// stream is handed to that path when it can take it (`fast_rx.rs`), and the
    /// packet forwarded.
    pub(crate) fn forward_rtp(&mut self, now: Instant, conn: ConnId, packet: RtpPacket) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let Some((mid, rid)) = p
            .publisher
            .rtc
            .direct_api()
            .stream_rx(&packet.header.ssrc)
            .map(|s| (s.mid(), s.rid()))
        else {
            return;
        };
        let duplicate = p
            .publisher
            .fast
            .as_ref()
            .is_some_and(|f| f.already_received(*packet.header.ssrc, *packet.seq_no));
        if self.config.media_beside_str0m {
            let origin = *self.feedback_origin.get_or_insert(now);
            p.publisher.hand_over_stream(&packet, (mid, rid), origin);
        }
        if duplicate {
            return;
        }
        let received = Received {
            mid,
            rid,
            pt: packet.header.payload_type,
            seq: *packet.seq_no,
            time: packet.time.numer(),
            marker: packet.header.marker,
            ext: packet.header.ext_vals,
            payload: packet.payload,
            arrival: packet.timestamp,
        };
        self.forward_received(now, conn, received);
    }

    /// One RTP packet from a publisher, forwarded as it is to every subscriber of its
    /// track that takes its layer: the payload is shared (`Arc`), only the header's
    /// numbers (and a VP8 descriptor's ids) are rewritten per subscriber.
    pub(crate) fn forward_received(&mut self, now: Instant, conn: ConnId, packet: Received) {
        // The fields apart, so the room's member list is read in place while its
        // members are changed (one room lookup per packet: the rooms are ordered by
        // name, and their string comparisons were 1.5% of the SFU's time).
        let Core {
            rooms,
            participants,
            outputs,
            forward_delay,
            dirty,
            ..
        } = self;
        let Some(p) = participants.get_mut(&conn) else {
            return;
        };
        let Received { mid, rid, .. } = packet;
        let pt = packet.pt;
        let Some(track) = p.published.iter_mut().find(|t| t.mid == Some(mid)) else {
            return;
        };
        let params = match track.payload_params.iter().find(|(t, _)| *t == pt) {
            Some((_, params)) => *params,
            None => {
                let config = p.publisher.rtc.codec_config();
                let Some(params) = config.params().iter().find(|c| c.pt() == pt).copied() else {
                    return;
                };
                track.payload_params.push((pt, params));
                params
            }
        };
        track.layer_seen.insert(rid, now);
        if let Some(dbov) = packet.ext.audio_level {
            track.voice.record(dbov);
        }
        track
            .layer_rate
            .entry(rid)
            .or_insert_with(|| super::layers::LayerRate::new(now))
            .record(now, packet.payload.len());
        if track.info.mime_type.is_empty() {
            track.info.mime_type = format!("{}/{}", track.kind, params.spec().codec).to_lowercase();
        }
        let codec = params.spec().codec;
        let keyframe = super::rtp_out::starts_keyframe(codec, &packet.payload);
        let (vp8, temporal) = match codec {
            str0m::format::Codec::Vp8 => (
                Vp8Ids::parse(&packet.payload),
                super::temporal::Temporal::parse(&packet.payload),
            ),
            _ => (None, None),
        };
        if let Some(t) = temporal {
            track.temporal_layers = track.temporal_layers.max(t.tid + 1);
            if t.starts_picture {
                track
                    .frame_rate
                    .entry(rid)
                    .or_insert_with(|| super::temporal::FrameRate::new(now))
                    .picture(now);
            }
        }
        let incoming = InPacket {
            seq: packet.seq,
            time: packet.time,
            hz: params.spec().clock_rate.get(),
            arrival: packet.arrival,
            vp8: vp8.map(|(ids, _)| ids),
        };
        let video = track.kind == MediaKind::Video;
        // Which ranks are flowing, as bits (no allocation per packet).
        let mut fresh_ranks = 0u8;
        for (layer, seen) in &track.layer_seen {
            if now.saturating_duration_since(*seen) < LAYER_STALE_AFTER {
                fresh_ranks |= 1 << layer_rank(layer.as_ref());
            }
        }
        let sid = std::mem::take(&mut track.info.sid);
        // What the subscriber's player uses passes on; str0m sets mid, rid and the
        // transport-wide sequence number of each hop itself.
        let incoming_ext = &packet.ext;
        let ext = ExtensionValues {
            audio_level: incoming_ext.audio_level,
            voice_activity: incoming_ext.voice_activity,
            video_orientation: incoming_ext.video_orientation,
            video_content_type: incoming_ext.video_content_type,
            ..Default::default()
        };
        let mut want_keyframe = false;
        let mut switched = false;
        // The room's member list is borrowed for the loop (nobody joins or leaves in
        // it), so a packet costs no allocation for its fan-out.
        let members: &[ConnId] = rooms.get(&p.room).map_or(&[], |r| &r.members);
        for &subscriber in members {
            if subscriber == conn {
                continue;
            }
            let Some(q) = participants.get_mut(&subscriber) else {
                continue;
            };
            let side = q.down_side();
            let paced = q.paced_downlink;
            let Some(d) = q.down.iter_mut().find(|d| d.track_sid == sid) else {
                continue;
            };
            let DownState::Open(out_mid) = d.state else {
                continue;
            };
            if d.disabled {
                continue;
            }
            let current_stale = d
                .layer
                .as_ref()
                .is_some_and(|cur| fresh_ranks & (1 << layer_rank(cur.as_ref())) == 0);
            let target_mask = (1u8 << (d.target.min(2) + 1)) - 1;
            let decision = choose_layer(
                d.layer.as_ref(),
                &rid,
                keyframe,
                current_stale,
                fresh_ranks & target_mask != 0,
                d.needs_keyframe,
                d.target,
            );
            match decision {
                LayerDecision::Drop => continue,
                LayerDecision::DropWantKeyframe => {
                    want_keyframe = true;
                    continue;
                }
                LayerDecision::Forward => {}
            }
            let restart = d.mapping.is_none() || d.needs_keyframe || d.layer != Some(rid);
            if restart {
                if d.layer.is_some() && d.layer != Some(rid) {
                    q.metrics.layer_switches += 1;
                    switched = true;
                }
                d.mapping = Some(Mapping::start(&incoming, q.section_out.get(&out_mid)));
                d.first_sent.get_or_insert(now);
                d.layer = Some(rid);
                d.needs_keyframe = false;
                d.gaps.clear();
                d.temporal_cap.restart();
            }
            let Some(mapping) = d.mapping else {
                continue;
            };
            // Temporal layers above the cap are dropped, and the rest renumbered over
            // the gaps they leave (`temporal.rs`).
            if let Some(t) = temporal
                && !d.temporal_cap.forwards(t)
            {
                let picture_id = incoming.vp8.and_then(|v| v.picture_id).map(|(p, _)| p);
                d.gaps.dropped(incoming.seq, picture_id);
                continue;
            }
            let Some(mut out) = mapping.map(&incoming) else {
                continue;
            };
            let mut pictures_dropped = 0;
            if !d.gaps.is_empty() {
                let Some((packets, pictures)) = d.gaps.before(incoming.seq) else {
                    continue;
                };
                out.seq -= packets;
                pictures_dropped = pictures;
                if let Some(ids) = out.vp8.as_mut()
                    && let Some((p, wide)) = ids.picture_id
                {
                    let mask = if wide { 0x7fff } else { 0x7f };
                    ids.picture_id = Some((p.wrapping_sub(pictures) & mask, wide));
                }
            }
            let out_pt = match d.payload_types.iter().find(|(from, _)| *from == pt) {
                Some((_, to)) => *to,
                None => {
                    let peer = match side {
                        Side::Publisher => Some(&mut q.publisher),
                        Side::Subscriber => q.subscriber.as_mut(),
                    };
                    let matched = peer
                        .and_then(|peer| peer.rtc.codec_config().match_params(params))
                        .map(|params| params.pt());
                    let Some(to) = matched else {
                        continue;
                    };
                    d.payload_types.push((pt, to));
                    to
                }
            };
            let mut slot = q.section_out.get(&out_mid).copied();
            SectionOut::record(&mut slot, &out, packet.arrival);
            if let Some(slot) = slot {
                q.section_out.insert(out_mid, slot);
            }
            let Some(peer) = q.peer_mut(side) else {
                continue;
            };
            let patch_vp8 = !mapping.keeps_vp8() || pictures_dropped != 0;
            let kind = if video { Kind::Video } else { Kind::Audio };
            if peer.send_beside && peer.send.is_none() {
                let twcc_id = super::fast_tx::twcc_id_of(&peer.rtc, out_mid);
                peer.start_send_beside(now, twcc_id);
            }
            if let Some(send) = peer.send.as_mut() {
                // The path beside str0m (`fast_tx.rs`): a rewritten VP8 descriptor goes
                // in place of the shared payload's first bytes.
                let mut head = [0u8; bedside_media::send::MAX_HEAD];
                let mut head_len = 0;
                if let (true, Some(ids)) = (patch_vp8, out.vp8) {
                    let n = packet.payload.len().min(head.len());
                    head[..n].copy_from_slice(&packet.payload[..n]);
                    head_len = super::rtp_out::write_vp8_ids(&mut head[..n], &ids).unwrap_or(0);
                }
                let forwarded = super::fast_tx::Forwarded {
                    mid: out_mid,
                    pt: out_pt,
                    seq: out.seq,
                    time: out.time as u32,
                    marker: packet.marker,
                    ext: &ext,
                    payload: &packet.payload,
                    head: &head[..head_len],
                    paced: video && paced,
                };
                if let Some(ssrc) = send.send(now, &mut peer.rtc, &forwarded, outputs) {
                    forward_delay.written(ssrc, out.seq as u16, packet.arrival, kind);
                }
                continue;
            }
            let mut write = RtpWrite::new(
                out_pt,
                out.seq.into(),
                out.time as u32,
                packet.arrival,
                packet.payload.clone(),
            )
            .marker(packet.marker)
            .ext_vals(ext.clone())
            .nackable(video);
            if let (Some((_, descriptor)), Some(ids), true) = (&vp8, out.vp8, patch_vp8) {
                let mut patch = descriptor.patch();
                if let Some((picture_id, _)) = ids.picture_id {
                    patch = patch.picture_id(picture_id);
                }
                if let Some(tl0) = ids.tl0_pic_idx {
                    patch = patch.tl0_pic_idx(tl0);
                }
                if let Some(key_idx) = ids.key_idx {
                    patch = patch.key_idx(key_idx);
                }
                match patch.build() {
                    Ok(patch) => write = write.vp8_patch(patch),
                    Err(error) => tracing::debug!(%error, "sfu vp8 patch refused"),
                }
            }
            let mut direct = peer.rtc.direct_api();
            let Some(stream) = direct.stream_tx_by_mid(out_mid, None) else {
                tracing::debug!(subscriber, "sfu has no send stream for a section");
                continue;
            };
            // Forwarded media is paced again only on a thin link: the publisher's encoder
            // and pacer already spread it, and holding it here adds delay, but a policed
            // link drops a burst it cannot absorb (`paced_downlink` in adapt.rs).
            // Audio is never held behind video.
            stream.set_unpaced(!(video && paced));
            forward_delay.written(*stream.ssrc(), out.seq as u16, packet.arrival, kind);
            stream.write_rtp(write);
            dirty.insert((subscriber, side));
        }
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let Some(track) = p.published.iter_mut().find(|t| t.mid == Some(mid)) else {
            return;
        };
        let follow_up = (want_keyframe || switched).then(|| sid.clone());
        track.info.sid = sid;
        if let Some(sid) = follow_up {
            if want_keyframe && video {
                self.request_keyframe(now, conn, &sid, rid);
            }
            if switched {
                // The layers actually in use changed: dynacast may stop or resume some.
                self.update_dynacast(conn, &sid);
            }
        }
    }
}

#[cfg(test)]
#[path = "forward_test.rs"]
mod tests;
