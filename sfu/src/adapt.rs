//! Bandwidth adaptation: runs the layer selector ([`super::layers`]) for a subscriber's
//! video down tracks when its downlink estimate or its wishes change, pauses video the
//! link cannot carry (and says so with `StreamStateUpdate`), tells str0m what to probe
//! and pad towards, and keeps publishers informed of the layers anyone needs
//! (dynacast).

use std::time::Instant;

use livekit_protocol as proto;
use str0m::media::{MediaKind, Rid};

use super::core::{ConnId, Core};
use super::forward::{AUDIO_ALLOWANCE_BPS, layer_rank, rid_of_rank};
use super::layers::{must_pause, select_layer, temporal_fallback};
use super::participant::DownState;
use super::temporal::{DEFAULT_FPS, fps_cap};

/// Whether forwarded video to a subscriber should be paced (str0m's leaky bucket at
/// about its estimate) rather than leave as it arrives.
///
/// A frame forwarded at once is a burst of several packets, and a keyframe a large one.
/// A wide link absorbs it, and pacing it again only adds delay (the publisher's own
/// pacer spread it already, and LiveKit does not pace forwarded media either). A thin
/// policed link (a coturn `--max-bps`, a throttled mobile plan) drops what exceeds its
/// rate. Measured through a coturn at 360 kbit/s (docs/sfu.md, "Pacing on a thin link"):
/// unpaced lost 8-18% of packets at 1-8 frames per second, paced 2-12% at 10-19.
///
/// So a subscriber is paced until its estimate shows that the link carries all it
/// `wanted` (its preferred layers, which str0m probes for). A subscriber that is held
/// to a lower layer is on a link known to be short, and there a burst costs more than
/// the pacer's delay. With no estimate yet a burst is not risked. A paced link must show
/// 5% more to go unpaced again, so an estimate at the line does not flip it at every
/// report: flipping kept the estimate from climbing back after congestion (the layer
/// tests in the simulation).
fn paced_downlink(estimate: Option<u64>, wanted: u64, paced_now: bool) -> bool {
    let over_wanted_percent = if paced_now { 105 } else { 100 };
    estimate.is_none_or(|estimate| estimate * 100 < wanted * over_wanted_percent)
}

/// How long after a down track's video first left it may not be paused for bandwidth.
///
/// Video starting on a link that carried only audio (a patient just admitted, a
/// camera turned on) is the one moment the estimate cannot judge it: the estimate's
/// decrease goes to 0.85 times the throughput the receiver acknowledged, and until the
/// video's first packets are acknowledged that is the audio's. The first overuse the
/// feedback shows (a keyframe's burst is enough) then takes the estimate to about
/// 60-100 kbit/s, below any video layer: at almost every visit's admission here the
/// SFU paused the video it had just begun to send, for 3 to 9 s, and graded the
/// clinician poor on a loopback link (docs/sfu.md, "The sending end, a burst the
/// kernel refused, and probes forwarded as media"). So while no video has been flowing to the subscriber for this
/// long, a new track's lowest layer keeps flowing for its first seconds (temporal
/// layers capped as the budget needs), and the estimate is judged once it was made
/// with video on the link: a link that really cannot carry it still pauses, 3 s later.
/// A subscriber already receiving video has an estimate that knows it, and gets no
/// grace.
pub(crate) const START_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// The selector's decision for one down track, and what its layers need.
struct LayerPlan {
    /// Index in the subscriber's down tracks.
    index: usize,
    target: Option<u8>,
    /// The highest rank the subscriber's wishes allow.
    ceiling: Option<u8>,
    /// Paused for bandwidth (`target` is `None` then).
    paused: bool,
    /// The temporal cap the budget needs (the lowest layer does not fit whole).
    budget_cap: Option<u8>,
    /// The temporal cap to forward with (the budget's or the subscriber's fps wish).
    temporal_cap: Option<u8>,
    /// What the lowest layer needs, with headroom: probed towards while paused.
    lowest_bps: u64,
    rids: Vec<Rid>,
    /// What each rank needs, with headroom (0 for a rank not sent).
    rank_bps: [u64; 3],
}

impl LayerPlan {
    fn rate(&self, rank: Option<u8>) -> u64 {
        rank.map_or(0, |r| self.rank_bps[usize::from(r.min(2))])
    }
}

impl Core {
    /// Re-runs the layer selector for `conn`'s video down tracks: its downlink estimate
    /// (less an audio allowance) is shared equally. A changed target asks the publisher
    /// for a keyframe on the new layer (the switch happens on it) and updates dynacast.
    pub(crate) fn reselect_layers(&mut self, now: Instant, conn: ConnId) {
        let Some(p) = self.participants.get(&conn) else {
            return;
        };
        let videos = p.down.iter().filter(|d| d.kind == MediaKind::Video).count() as u64;
        let audios = p.down.iter().filter(|d| d.kind == MediaKind::Audio).count() as u64;
        let budget = p
            .downlink_bps
            .map(|bps| bps.saturating_sub(audios * AUDIO_ALLOWANCE_BPS) / videos.max(1));
        // Whether the estimate was made with video on the link (see [`START_GRACE`]).
        let link_had_video = p.down.iter().any(|d| {
            d.kind == MediaKind::Video
                && !d.paused
                && d.first_sent
                    .is_some_and(|at| now.saturating_duration_since(at) >= START_GRACE)
        });
        let mut changed = Vec::new();
        // `desired`: what the preferred layers need (str0m probes towards it);
        // `minimum`: what the next layer up needs, which str0m pads up to so the
        // estimate can grow into it (an SFU's way to climb back after congestion).
        let mut desired: u64 = audios * AUDIO_ALLOWANCE_BPS;
        let mut minimum: u64 = audios * AUDIO_ALLOWANCE_BPS;
        let plans: Vec<LayerPlan> = p
            .down
            .iter()
            .enumerate()
            .filter(|(_, d)| d.kind == MediaKind::Video)
            .filter_map(|(i, d)| {
                let publisher = self.participants.get(&d.publisher)?;
                let track = publisher
                    .published
                    .iter()
                    .find(|t| t.info.sid == d.track_sid)?;
                let specs = track.layer_specs(now);
                let current = d.layer.as_ref().map(|r| layer_rank(r.as_ref()));
                let chosen = select_layer(&specs, d.wanted, budget, current);
                // Capped, the lowest layer goes back to whole only when it fits whole.
                let capped = d.budget_cap.is_some();
                let whole_cannot =
                    chosen.is_some() && must_pause(&specs, budget, d.paused || capped);
                // Before pausing, its lower frame rates (temporal layers), if it has any.
                let lowest_spec = specs.iter().min_by_key(|l| l.rank);
                let budget_cap = match (whole_cannot, budget, lowest_spec) {
                    (true, Some(budget), Some(lowest)) => temporal_fallback(
                        lowest.bitrate_bps,
                        budget,
                        track.temporal_layers,
                        d.budget_cap,
                    ),
                    _ => None,
                };
                let starting = !link_had_video
                    && d.first_sent
                        .is_none_or(|at| now.saturating_duration_since(at) < START_GRACE);
                // A track already paused stays so until the link carries it.
                let judged = d.paused || !starting;
                let paused = whole_cannot && budget_cap.is_none() && judged;
                let layer_fps = d
                    .layer
                    .as_ref()
                    .and_then(|rid| track.frame_rate.get(rid))
                    .and_then(|rate| rate.fps())
                    .unwrap_or(DEFAULT_FPS);
                let fps_cap = fps_cap(d.max_fps, track.temporal_layers, layer_fps);
                let temporal_cap = match (budget_cap, fps_cap) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let target = chosen.filter(|_| !paused);
                let ceiling = select_layer(&specs, d.wanted, None, None);
                let mut rank_bps = [0u64; 3];
                for l in &specs {
                    rank_bps[usize::from(l.rank.min(2))] += l.bitrate_bps * 13 / 10;
                }
                let lowest = specs.iter().map(|l| l.rank).min();
                Some(LayerPlan {
                    index: i,
                    target,
                    ceiling,
                    paused,
                    budget_cap,
                    temporal_cap,
                    lowest_bps: lowest.map_or(0, |r| rank_bps[usize::from(r.min(2))]),
                    rids: track.rids.clone(),
                    rank_bps,
                })
            })
            .collect();
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let mut stream_states = Vec::new();
        let mut paused_sections = Vec::new();
        for plan in plans {
            let d = &mut p.down[plan.index];
            let previous = (!d.disabled && !d.paused).then_some(d.target);
            let target = d.upgrades.gate(now, previous, plan.target, plan.ceiling);
            d.held_low = matches!((target, plan.ceiling), (Some(t), Some(c)) if t < c)
                || plan.budget_cap.is_some();
            if d.temporal_cap.wanted() != plan.temporal_cap {
                tracing::debug!(
                    conn,
                    track_sid = %d.track_sid,
                    cap = ?plan.temporal_cap,
                    budget_bps = ?budget,
                    "sfu caps a subscriber's temporal layers"
                );
                d.temporal_cap.want(plan.temporal_cap);
            }
            d.budget_cap = plan.budget_cap;
            if plan.paused || plan.budget_cap.is_some() {
                // Nothing is padded for a paused or temporally capped track (the link
                // is already short); str0m probes towards its lowest layer whole, to
                // learn when it fits again.
                desired += plan.lowest_bps;
            } else {
                // Padding grows the estimate towards the layer above the selector's
                // choice, held back or not, so a held link can show that it carries it.
                let next = match (plan.target, plan.ceiling) {
                    (Some(t), Some(c)) if t < c => Some(t + 1),
                    _ => plan.target,
                };
                desired += plan.rate(plan.ceiling);
                minimum += plan.rate(next);
            }
            if d.paused != plan.paused {
                tracing::debug!(
                    conn,
                    track_sid = %d.track_sid,
                    paused = plan.paused,
                    budget_bps = ?budget,
                    "sfu pauses or resumes a subscriber's video"
                );
                d.paused = plan.paused;
                // Back from a pause, the decoder needs a keyframe to start again.
                d.needs_keyframe |= !plan.paused;
                if let (true, DownState::Open(mid)) = (plan.paused, &d.state) {
                    paused_sections.push(*mid);
                }
                stream_states.push(proto::StreamStateInfo {
                    participant_sid: d.publisher_sid.clone(),
                    track_sid: d.track_sid.clone(),
                    state: if plan.paused {
                        proto::StreamState::Paused
                    } else {
                        proto::StreamState::Active
                    } as i32,
                });
            }
            let rank = target.unwrap_or(0);
            d.disabled = target.is_none();
            if d.target != rank {
                tracing::debug!(
                    conn,
                    track_sid = %d.track_sid,
                    from = d.target,
                    to = rank,
                    layer_bps = plan.rate(Some(rank)),
                    budget_bps = ?budget,
                    "sfu moves a subscriber to another layer"
                );
                d.target = rank;
                changed.push((
                    d.publisher,
                    d.track_sid.clone(),
                    rid_of_rank(&plan.rids, rank),
                ));
            }
        }
        p.paced_downlink = paced_downlink(p.downlink_bps, desired, p.paced_downlink);
        // str0m probes a little past what is wanted, so that a link which carries it
        // can show it does (and go unpaced, above).
        let desired = desired * 110 / 100;
        let side = p.down_side();
        if let Some(send) = p.peer_mut(side).and_then(|peer| peer.send.as_mut()) {
            // The path beside str0m probes towards it (`fast_tx.rs`).
            send.wanted_bps = desired;
            for mid in paused_sections {
                let dropped = send.drop_queued(mid);
                tracing::debug!(conn, dropped, "sfu drops a paused video's queued packets");
            }
        } else if let Some(peer) = p.peer_mut(side) {
            let desired = str0m::bwe::Bitrate::bps(desired.max(300_000));
            peer.rtc
                .bwe()
                .set_bitrate(str0m::bwe::Bitrate::bps(minimum), desired);
        }
        if !stream_states.is_empty() {
            // LiveKit's clients show a paused stream as such (`TrackStreamStateChanged`).
            self.send(
                conn,
                proto::signal_response::Message::StreamStateUpdate(proto::StreamStateUpdate {
                    stream_states,
                }),
            );
        }
        for (publisher, sid, rid) in changed {
            self.request_keyframe(now, publisher, &sid, rid);
            self.update_dynacast(publisher, &sid);
        }
    }

    /// Tells a publisher which layers of a track anyone needs (`SubscribedQualityUpdate`),
    /// when that changed, so it can stop encoding the rest (clients with dynacast on).
    pub(crate) fn update_dynacast(&mut self, publisher: ConnId, sid: &str) {
        let mut needed = [false; 3];
        for other in self.room_peers(publisher) {
            let Some(q) = self.participants.get(&other) else {
                continue;
            };
            for d in q.down.iter().filter(|d| d.track_sid == sid) {
                // A paused subscriber keeps the lowest layer alive (and measured), so
                // it can resume the moment its link allows.
                if d.paused {
                    needed[0] = true;
                    continue;
                }
                if d.disabled {
                    continue;
                }
                needed[usize::from(d.target.min(2))] = true;
                if let Some(layer) = &d.layer {
                    needed[usize::from(layer_rank(layer.as_ref()))] = true;
                }
            }
        }
        let Some(p) = self.participants.get_mut(&publisher) else {
            return;
        };
        let Some(track) = p.published.iter_mut().find(|t| t.info.sid == sid) else {
            return;
        };
        if track.kind != MediaKind::Video || track.dynacast == Some(needed) {
            return;
        }
        track.dynacast = Some(needed);
        let qualities: Vec<proto::SubscribedQuality> = [
            proto::VideoQuality::Low,
            proto::VideoQuality::Medium,
            proto::VideoQuality::High,
        ]
        .into_iter()
        .zip(needed)
        .map(|(quality, enabled)| proto::SubscribedQuality {
            quality: quality as i32,
            enabled,
        })
        .collect();
        let codec = track
            .info
            .mime_type
            .split('/')
            .nth(1)
            .unwrap_or("vp8")
            .to_string();
        #[allow(deprecated)] // protocol-16 clients read `subscribed_qualities`.
        let update = proto::SubscribedQualityUpdate {
            track_sid: sid.to_string(),
            subscribed_qualities: qualities.clone(),
            subscribed_codecs: vec![proto::SubscribedCodec { codec, qualities }],
        };
        self.send(
            publisher,
            proto::signal_response::Message::SubscribedQualityUpdate(update),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::paced_downlink;

    const MBIT: u64 = 1_000_000;

    #[test]
    fn a_link_without_an_estimate_is_paced() {
        assert!(paced_downlink(None, MBIT, false));
    }

    #[test]
    fn a_link_that_carries_all_the_subscriber_wants_is_unpaced_and_a_shorter_one_paced() {
        assert!(!paced_downlink(Some(MBIT), MBIT, false));
        assert!(paced_downlink(Some(990_000), MBIT, false));
    }

    #[test]
    fn a_paced_link_needs_five_percent_more_than_it_wants_to_go_unpaced_again() {
        assert!(paced_downlink(Some(1_040_000), MBIT, true));
        assert!(!paced_downlink(Some(1_060_000), MBIT, true));
    }
}
