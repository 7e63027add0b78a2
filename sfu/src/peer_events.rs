//! The peer events str0m raises (ICE state, media sections added and stopped, stats,
//! estimates, data channels, keyframe requests) and what the core does with each. RTP
//! packets go on to the forwarder (`forward.rs`).

use std::time::Instant;

use str0m::media::{MediaKind, Mid};
use str0m::{Event, IceConnectionState};

use super::core::{ConnId, Core};
use super::participant::Side;

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
                    peer.connected_at.get_or_insert(now);
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
            Event::RtpPacket(packet) if side == Side::Publisher => {
                self.forward_rtp(now, conn, packet)
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
            Event::PeerStats(mut stats) => {
                if let Some(p) = self.participants.get_mut(&conn) {
                    // Packets on the path beside str0m are counted there.
                    if side == Side::Publisher
                        && let Some(fast) = p.publisher.fast.as_mut()
                    {
                        stats.ingress_loss_fraction =
                            fast.take_loss().or(stats.ingress_loss_fraction);
                    }
                    let mut beside_loss = None;
                    if let Some(send) = p.peer_mut(side).and_then(|peer| peer.send.as_mut()) {
                        // What left beside str0m is counted there (`fast_tx.rs`).
                        stats.peer_bytes_tx += send.sent.1;
                        if let Some(rtt) = stats.rtt {
                            send.rtt = rtt;
                        }
                        beside_loss = send.take_loss();
                        stats.egress_loss_fraction = beside_loss;
                        for (mid, counts) in send.egress_counts(now) {
                            p.metrics.egress.insert((side, mid, None), counts);
                        }
                    }
                    // The loss the subscriber's feedback reports takes back a move up the
                    // link could not carry, as its receiver reports do on str0m's path.
                    // Every video down track hears it (no short circuit).
                    let mut taken_back = false;
                    if let Some(loss) = beside_loss.filter(|_| p.down_side() == side) {
                        for d in p.down.iter_mut().filter(|d| d.kind == MediaKind::Video) {
                            taken_back |= d.upgrades.report_loss(now, loss);
                        }
                    }
                    p.metrics
                        .peer_bytes
                        .insert(side, (stats.peer_bytes_rx, stats.peer_bytes_tx));
                    if p.down_side() == side {
                        p.grade_links(
                            stats.ingress_loss_fraction,
                            stats.egress_loss_fraction,
                            stats.rtt,
                        );
                    } else {
                        p.quality.up_sample = Some((stats.ingress_loss_fraction, stats.rtt));
                    }
                    if taken_back {
                        tracing::debug!(conn, "sfu takes back a move up the link lost");
                        self.reselect_layers(now, conn);
                    }
                }
            }
            Event::MediaIngressStats(stats) => {
                if let Some(p) = self.participants.get_mut(&conn) {
                    let audio = p
                        .published
                        .iter()
                        .any(|t| t.mid == Some(stats.mid) && t.kind == MediaKind::Audio);
                    let beside = p.publisher.fast.as_ref().filter(|f| f.carries(stats.mid));
                    let jitter = match beside {
                        Some(fast) => fast.jitter_ticks(stats.mid).unwrap_or(stats.jitter),
                        None => stats.jitter,
                    };
                    if audio {
                        p.quality.audio_jitter_ticks(jitter);
                    }
                }
            }
            Event::MediaEgressStats(stats) => {
                // A transport sending beside str0m is counted there (`PeerStats` above).
                if let Some(p) = self
                    .participants
                    .get_mut(&conn)
                    .filter(|p| p.rtc(side).is_some() && !p.sends_beside(side))
                {
                    let counts = [
                        stats.packets,
                        stats.bytes,
                        stats.nacks,
                        stats.plis + stats.firs,
                    ];
                    p.metrics
                        .egress
                        .insert((side, stats.mid, stats.rid), counts);
                    // The subscriber's receiver reports see a policer's drops long
                    // before the delay-based estimate does (docs/sfu.md).
                    let taken_back = match stats.loss {
                        Some(loss) if p.down_side() == side => p
                            .down
                            .iter_mut()
                            .filter(|d| d.kind == MediaKind::Video && d.mid() == Some(stats.mid))
                            .any(|d| d.upgrades.report_loss(now, loss)),
                        _ => false,
                    };
                    if taken_back {
                        tracing::debug!(conn, mid = %stats.mid, "sfu takes back a move up the link lost");
                        self.reselect_layers(now, conn);
                    }
                }
            }
            Event::EgressBitrateEstimate(str0m::bwe::BweKind::Twcc { estimate, .. }) => {
                let Some(p) = self.participants.get_mut(&conn) else {
                    return;
                };
                // A transport sending beside str0m has its own estimate (`fast_tx.rs`).
                let beside = p.peer_mut(side).is_some_and(|peer| peer.send.is_some());
                if p.down_side() == side && !beside {
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

    /// A receive section the client stopped sending on (it removed the track and
    /// renegotiated, as LiveKit's SDKs unpublish): its track is unpublished, and the
    /// room is told, so no subscriber keeps a frozen tile.
    fn media_stopped(&mut self, now: Instant, conn: ConnId, mid: Mid) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        super::receive_sections::forget_section(p, mid);
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
}
