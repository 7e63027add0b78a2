//! Forwarding: media frames to subscribers, keyframe requests to publishers, data
//! packets to the room. Layer choice for simulcast lives here as a pure function.

use std::time::{Duration, Instant};

use str0m::media::{KeyframeRequestKind, MediaData, MediaTime, Mid, Rid};
use str0m::{Event, IceConnectionState};

use super::core::{ConnId, Core};
use super::participant::{DownState, Side};

/// Keyframe requests to one publisher layer are at most this frequent.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// A layer silent this long is considered stopped (the encoder paused it).
pub(crate) const LAYER_STALE_AFTER: Duration = Duration::from_millis(1500);
/// Audio reserved out of a subscriber's downlink before video is shared out.
pub(crate) const AUDIO_ALLOWANCE_BPS: u64 = 64_000;

/// Quality rank of a simulcast layer: `q` 0, `h` 1, `f` 2; no simulcast 0.
pub(crate) fn layer_rank(rid: Option<&Rid>) -> u8 {
    match rid.map(|r| &**r) {
        Some("h") => 1,
        Some("f") => 2,
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

/// A VP8/H.264/VP9/AV1 keyframe (audio frames count as keyframes).
fn is_keyframe(data: &MediaData) -> bool {
    use str0m::format::CodecExtra;
    match &data.codec_extra {
        CodecExtra::Vp8(e) => e.is_keyframe,
        CodecExtra::H264(e) => e.is_keyframe,
        CodecExtra::Vp9(e) => e.is_keyframe,
        CodecExtra::Av1(e) => e.is_keyframe,
        _ => true,
    }
}

/// The offset that makes a frame of a newly switched-to layer continue the previous
/// layer's timeline: the last output time plus the wall time elapsed since.
fn continuous_offset(last_out: Option<(MediaTime, Instant)>, data: &MediaData) -> i64 {
    let Some((last_time, last_wall)) = last_out else {
        return 0;
    };
    let hz = u64::from(data.time.frequency().get());
    let elapsed = data.network_time.saturating_duration_since(last_wall);
    let elapsed_units = (elapsed.as_micros() as u64).saturating_mul(hz) / 1_000_000;
    let expected = last_time.rebase(data.time.frequency()).numer() + elapsed_units.max(1);
    expected as i64 - data.time.numer() as i64
}

/// `time` moved by `offset` units of its own clock.
fn shifted(time: MediaTime, offset: i64) -> MediaTime {
    let numer = (time.numer() as i64).saturating_add(offset).max(0) as u64;
    MediaTime::new(numer, time.frequency())
}

impl Core {
    /// Reacts to one str0m event of `conn`'s `side` peer.
    pub(crate) fn handle_event(&mut self, now: Instant, conn: ConnId, side: Side, event: Event) {
        match event {
            Event::IceConnectionStateChange(state) => self.ice_state(now, conn, side, state),
            Event::Connected => {
                if let Some(peer) = self
                    .participants
                    .get_mut(&conn)
                    .and_then(|p| p.peer_mut(side))
                {
                    peer.connected = true;
                }
            }
            Event::MediaAdded(added)
                if side == Side::Publisher && added.direction.is_receiving() =>
            {
                self.media_added(conn, added)
            }
            Event::MediaChanged(changed)
                if side == Side::Publisher && !changed.direction.is_receiving() =>
            {
                self.media_stopped(now, conn, changed.mid)
            }
            Event::MediaData(data) if side == Side::Publisher => {
                self.forward_media(now, conn, data)
            }
            Event::KeyframeRequest(request) => {
                self.subscriber_wants_keyframe(now, conn, side, request)
            }
            Event::ChannelOpen(id, label) => {
                if let Some(p) = self.participants.get_mut(&conn) {
                    p.channels.by_id.insert((side, id), label);
                }
            }
            Event::ChannelClose(id) => {
                if let Some(p) = self.participants.get_mut(&conn) {
                    p.channels.by_id.remove(&(side, id));
                }
            }
            Event::ChannelData(data) if side == Side::Publisher => {
                self.forward_data(now, conn, data)
            }
            Event::PeerStats(stats) => {
                if let Some(p) = self.participants.get_mut(&conn) {
                    p.metrics
                        .peer_bytes
                        .insert(side, (stats.peer_bytes_rx, stats.peer_bytes_tx));
                }
            }
            Event::MediaEgressStats(stats) => {
                if let Some(p) = self.participants.get_mut(&conn) {
                    let counts = [
                        stats.packets,
                        stats.bytes,
                        stats.nacks,
                        stats.plis + stats.firs,
                    ];
                    p.metrics
                        .egress
                        .insert((side, stats.mid, stats.rid), counts);
                }
            }
            Event::EgressBitrateEstimate(str0m::bwe::BweKind::Twcc { estimate, .. }) => {
                let Some(p) = self.participants.get_mut(&conn) else {
                    return;
                };
                if p.down_side() == side {
                    p.downlink_bps = Some(estimate.as_u64());
                    self.reselect_layers(now, conn);
                }
            }
            _ => {}
        }
    }

    fn ice_state(&mut self, now: Instant, conn: ConnId, side: Side, state: IceConnectionState) {
        let Some(peer) = self
            .participants
            .get_mut(&conn)
            .and_then(|p| p.peer_mut(side))
        else {
            return;
        };
        match state {
            IceConnectionState::Disconnected => {
                peer.disconnected_at.get_or_insert(now);
            }
            IceConnectionState::Connected | IceConnectionState::Completed => {
                peer.disconnected_at = None;
            }
            _ => {}
        }
    }

    /// A receive section appeared in the client's offer: bind it to its announced track.
    fn media_added(&mut self, conn: ConnId, added: str0m::media::MediaAdded) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let track_id = p
            .publisher
            .rtc
            .media(added.mid)
            .map(|m| m.track_id().to_string())
            .unwrap_or_default();
        let rids: Vec<Rid> = added
            .simulcast
            .map(|s| s.recv.iter().map(|l| l.rid).collect())
            .unwrap_or_default();
        let by_cid = p
            .published
            .iter()
            .position(|t| t.mid.is_none() && t.cid == track_id);
        let by_kind = || {
            p.published
                .iter()
                .position(|t| t.mid.is_none() && t.kind == added.kind)
        };
        let Some(index) = by_cid.or_else(by_kind) else {
            return tracing::debug!(conn, "sfu got media for no announced track");
        };
        let track = &mut p.published[index];
        track.mid = Some(added.mid);
        track.info.mid = added.mid.to_string();
        track.rids = rids;
    }

    /// A receive section the client stopped sending on (it removed the track and
    /// renegotiated, as LiveKit's SDKs unpublish): its track is unpublished, and the
    /// room is told, so no subscriber keeps a frozen tile.
    fn media_stopped(&mut self, now: Instant, conn: ConnId, mid: Mid) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let Some(index) = p.published.iter().position(|t| t.mid == Some(mid)) else {
            return;
        };
        let track = p.published.remove(index);
        p.version += 1;
        let hidden = p.grant.hidden;
        self.tracks_taken_down(now, conn, vec![track.info]);
        if !hidden {
            self.broadcast_update(conn, livekit_protocol::participant_info::State::Active);
        }
    }

    fn forward_media(&mut self, now: Instant, conn: ConnId, data: MediaData) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let Some(track) = p.published.iter_mut().find(|t| t.mid == Some(data.mid)) else {
            return;
        };
        track.layer_seen.insert(data.rid, now);
        track
            .layer_rate
            .entry(data.rid)
            .or_insert_with(|| super::layers::LayerRate::new(now))
            .record(now, data.data.len());
        if track.info.mime_type.is_empty() {
            track.info.mime_type =
                format!("{}/{}", track.kind, data.params.spec().codec).to_lowercase();
        }
        let sid = track.info.sid.clone();
        let layer_seen = track.layer_seen.clone();
        let keyframe = is_keyframe(&data);
        let fresh = |rid: &Option<Rid>| {
            layer_seen
                .get(rid)
                .is_some_and(|t| now.saturating_duration_since(*t) < LAYER_STALE_AFTER)
        };
        let active_ranks: Vec<u8> = layer_seen
            .keys()
            .filter(|rid| fresh(rid))
            .map(|rid| layer_rank(rid.as_ref()))
            .collect();
        let mut want_keyframe = false;
        let mut switched = false;
        for subscriber in self.room_peers(conn) {
            let Some(q) = self.participants.get_mut(&subscriber) else {
                continue;
            };
            let side = q.down_side();
            let Some(d) = q.down.iter_mut().find(|d| d.track_sid == sid) else {
                continue;
            };
            let DownState::Open(mid) = d.state else {
                continue;
            };
            if d.disabled {
                continue;
            }
            let current_stale = d.layer.as_ref().is_some_and(|cur| !fresh(cur));
            let target_layer_active = active_ranks.iter().any(|r| *r <= d.target);
            let decision = choose_layer(
                d.layer.as_ref(),
                &data.rid,
                keyframe,
                current_stale,
                target_layer_active,
                d.needs_keyframe,
                d.target,
            );
            match decision {
                LayerDecision::Drop => continue,
                LayerDecision::DropWantKeyframe => {
                    want_keyframe = true;
                    continue;
                }
                LayerDecision::Forward => {
                    let reused = q.section_last_out.get(&mid).copied();
                    if d.layer.is_none() && reused.is_some() {
                        d.time_offset = continuous_offset(reused, &data);
                    } else if d.layer.is_some() && d.layer != Some(data.rid) {
                        d.time_offset = continuous_offset(d.last_out, &data);
                        q.metrics.layer_switches += 1;
                        switched = true;
                    }
                    d.layer = Some(data.rid);
                    d.needs_keyframe = false;
                }
            }
            let time = shifted(data.time, d.time_offset);
            d.last_out = Some((time, data.network_time));
            q.section_last_out.insert(mid, (time, data.network_time));
            let Some(peer) = q.peer_mut(side) else {
                continue;
            };
            let Some(writer) = peer.rtc.writer(mid) else {
                continue;
            };
            let Some(pt) = writer.match_params(data.params) else {
                continue;
            };
            if let Err(error) = writer.write(pt, data.network_time, time, data.data.clone()) {
                tracing::debug!(%error, "sfu write failed");
            }
            self.dirty.insert((subscriber, side));
        }
        if want_keyframe {
            self.request_keyframe(now, conn, &sid, data.rid);
        }
        if switched {
            // The layers actually in use changed: dynacast may stop or resume some.
            self.update_dynacast(conn, &sid);
        }
    }

    /// A subscriber's decoder asked for a keyframe: ask the track's publisher only.
    fn subscriber_wants_keyframe(
        &mut self,
        now: Instant,
        conn: ConnId,
        side: Side,
        request: str0m::media::KeyframeRequest,
    ) {
        let Some(p) = self.participants.get(&conn) else {
            return;
        };
        if p.down_side() != side {
            return;
        }
        let Some(d) = p.down.iter().find(|d| d.mid() == Some(request.mid)) else {
            return;
        };
        let (publisher, sid, rid) = (d.publisher, d.track_sid.clone(), d.layer.flatten());
        self.request_keyframe(now, publisher, &sid, rid);
    }

    /// Asks a track's publisher for keyframes on every layer a new subscriber may start on.
    pub(crate) fn request_track_keyframes(&mut self, now: Instant, publisher: ConnId, sid: &str) {
        let rids: Vec<Option<Rid>> = match self
            .participants
            .get(&publisher)
            .and_then(|p| p.published.iter().find(|t| t.info.sid == sid))
        {
            Some(track) if track.rids.is_empty() => vec![None],
            Some(track) => track.rids.iter().map(|r| Some(*r)).collect(),
            None => return,
        };
        for rid in rids {
            self.request_keyframe(now, publisher, sid, rid);
        }
    }

    /// Sends a PLI for one layer of a published track, throttled.
    pub(crate) fn request_keyframe(
        &mut self,
        now: Instant,
        publisher: ConnId,
        sid: &str,
        rid: Option<Rid>,
    ) {
        let Some(p) = self.participants.get_mut(&publisher) else {
            return;
        };
        let Some(track) = p.published.iter_mut().find(|t| t.info.sid == sid) else {
            return;
        };
        let Some(mid) = track.mid else {
            return;
        };
        if track
            .last_keyframe_request
            .get(&rid)
            .is_some_and(|t| now.saturating_duration_since(*t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        track.last_keyframe_request.insert(rid, now);
        p.metrics.keyframe_requests += 1;
        if let Some(mut writer) = p.publisher.rtc.writer(mid)
            && let Err(error) = writer.request_keyframe(rid, KeyframeRequestKind::Pli)
        {
            tracing::debug!(%error, "sfu keyframe request failed");
        }
        self.dirty.insert((publisher, Side::Publisher));
    }
}

#[cfg(test)]
#[path = "forward_test.rs"]
mod tests;
