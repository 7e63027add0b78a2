//! One participant session: its grant, its peer connection(s) and its tracks.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use livekit_protocol as proto;
use proto::DisconnectReason;
use str0m::change::SdpPendingOffer;
use str0m::channel::ChannelId;
use str0m::format::PayloadParams;
use str0m::media::{MediaKind, Mid, Pt, Rid};
use str0m::{Input, Rtc};

use super::core::{ConnId, CoreOutput, PeerMode};
use crate::JoinGrant;

/// Which of a participant's peer connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Side {
    /// The connection the client offers on (in single mode, the only one).
    Publisher,
    /// The SFU-offered receive connection of the dual mode.
    Subscriber,
}

/// A peer connection and its timer.
pub(crate) struct Peer {
    pub(crate) rtc: Rtc,
    /// Where the SRTP keys of its handshake land (`bedside-media`); `None` once they
    /// turned out to be of a profile the path beside str0m does not open.
    pub(crate) keys: Option<bedside_media::keys::KeySlot>,
    /// Its receive path beside str0m, once str0m handed it a stream (`fast_rx.rs`).
    pub(crate) fast: Option<Box<super::fast_rx::FastReceive>>,
    /// Its send path beside str0m, from the first packet forwarded to it
    /// (`fast_tx.rs`).
    pub(crate) send: Option<Box<super::fast_tx::FastSend>>,
    /// Its sending goes beside str0m once media flows (the core's configuration).
    pub(crate) send_beside: bool,
    /// Before then: the last transport-wide number str0m used (its padding), and where
    /// str0m sends to.
    pub(crate) str0m_twcc: Option<u16>,
    /// And the highest (extended) sequence number str0m sent on each SSRC (its
    /// padding, on a repair stream): this path's packets there continue after it.
    pub(crate) str0m_seqs: std::collections::BTreeMap<u32, u64>,
    pub(crate) last_remote: Option<(
        str0m::net::Protocol,
        std::net::SocketAddr,
        std::net::SocketAddr,
    )>,
    pub(crate) timeout: Option<Instant>,
    pub(crate) connected: bool,
    /// When it first connected.
    pub(crate) connected_at: Option<Instant>,
    /// When ICE was lost (to give it a grace period).
    pub(crate) disconnected_at: Option<Instant>,
}

impl Peer {
    pub(crate) fn new((rtc, keys): (Rtc, bedside_media::keys::KeySlot), send_beside: bool) -> Self {
        Self {
            rtc,
            keys: Some(keys),
            fast: None,
            send: None,
            send_beside,
            str0m_twcc: None,
            str0m_seqs: std::collections::BTreeMap::new(),
            last_remote: None,
            timeout: None,
            connected: false,
            connected_at: None,
            disconnected_at: None,
        }
    }
}

/// A track this participant publishes.
#[derive(Debug)]
pub(crate) struct UpTrack {
    /// What others are told about it.
    pub(crate) info: proto::TrackInfo,
    /// The client's local id for it (its SDP msid track id).
    pub(crate) cid: String,
    pub(crate) kind: MediaKind,
    /// The receiving m-section, once the client's offer carried it.
    pub(crate) mid: Option<Mid>,
    /// Simulcast layers announced in SDP.
    pub(crate) rids: Vec<Rid>,
    /// When each layer last delivered a frame.
    pub(crate) layer_seen: crate::FastMap<Option<Rid>, Instant>,
    /// What each layer really sends.
    pub(crate) layer_rate: crate::FastMap<Option<Rid>, super::layers::LayerRate>,
    /// Last keyframe request sent to the publisher, per layer.
    pub(crate) last_keyframe_request: HashMap<Option<Rid>, Instant>,
    /// Layers last announced to the publisher as needed (dynacast), by rank.
    pub(crate) dynacast: Option<[bool; 3]>,
    /// The codec behind each payload type seen on it (looked up once per type).
    pub(crate) payload_params: Vec<(Pt, PayloadParams)>,
    /// Audio: the levels its packets carry, for speaker detection.
    pub(crate) voice: super::speakers::VoiceMeter,
    /// VP8: how many temporal layers its packets show (0 or 1: none to drop).
    pub(crate) temporal_layers: u8,
    /// VP8: each layer's frames per second.
    pub(crate) frame_rate: crate::FastMap<Option<Rid>, super::temporal::FrameRate>,
}

impl UpTrack {
    /// The layers as the layer selector sees them: announced in `AddTrack`, with the
    /// measured bitrate of each layer that is flowing at `now` in place of the
    /// announced one.
    #[allow(deprecated)] // `layers` is still what protocol-16 clients send.
    pub(crate) fn layer_specs(&self, now: Instant) -> Vec<super::layers::LayerSpec> {
        let defaults = [150_000, 500_000, 1_500_000];
        let measured = |rid: Option<Rid>| {
            let fresh = self.layer_seen.get(&rid).is_some_and(|seen| {
                now.saturating_duration_since(*seen) < super::forward::LAYER_STALE_AFTER
            });
            fresh
                .then(|| self.layer_rate.get(&rid).and_then(|r| r.bps()))
                .flatten()
        };
        let mut specs: Vec<super::layers::LayerSpec> = self
            .info
            .layers
            .iter()
            .map(|l| {
                let rank = (l.quality.clamp(0, 2)) as u8;
                let announced = match l.bitrate {
                    0 => defaults[usize::from(rank)],
                    b => u64::from(b),
                };
                let rid = super::forward::rid_of_rank(&self.rids, rank);
                super::layers::LayerSpec {
                    rank,
                    width: l.width,
                    bitrate_bps: rid.and_then(|r| measured(Some(r))).unwrap_or(announced),
                }
            })
            .collect();
        if specs.is_empty() || self.rids.is_empty() {
            specs = vec![super::layers::LayerSpec {
                rank: 0,
                width: self.info.width,
                bitrate_bps: measured(None).unwrap_or(0),
            }];
        }
        specs
    }
}

/// State of a track this participant receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DownState {
    /// Needs an m-section.
    Wanted,
    /// In an offer the client has not answered yet (dual mode).
    Negotiating(Mid),
    /// Forwarding.
    Open(Mid),
}

/// A track this participant receives from another.
#[derive(Debug)]
pub(crate) struct DownTrack {
    pub(crate) track_sid: String,
    pub(crate) publisher: ConnId,
    pub(crate) publisher_sid: String,
    pub(crate) kind: MediaKind,
    pub(crate) state: DownState,
    /// The layer currently forwarded: `None` before the first frame, then `Some(rid)`
    /// (`Some(None)` for a track without simulcast).
    pub(crate) layer: Option<Option<Rid>>,
    /// Nothing is forwarded until a keyframe (a fresh decoder needs one).
    pub(crate) needs_keyframe: bool,
    /// The subscriber disabled it (`UpdateTrackSettings.disabled`).
    pub(crate) disabled: bool,
    /// What the subscriber asked for (`UpdateTrackSettings`).
    pub(crate) wanted: super::layers::Wanted,
    /// The rank the layer selector chose (video; audio always forwards).
    pub(crate) target: u8,
    /// Video paused because the subscriber's downlink cannot carry even the lowest
    /// layer (they were told with `StreamStateUpdate`).
    pub(crate) paused: bool,
    /// How the current layer's packets are renumbered onto the section's stream
    /// (started at each switch, so numbering runs on across layers and tracks).
    pub(crate) mapping: Option<super::rtp_out::Mapping>,
    /// The subscriber's payload type for each of the publisher's.
    pub(crate) payload_types: Vec<(Pt, Pt)>,
    /// Moves up held back after the link failed one (video).
    pub(crate) upgrades: super::layers::UpgradeBackoff,
    /// Held below the layers wanted, for the subscriber's downlink (a cost to its
    /// connection quality, [`super::quality`]).
    pub(crate) held_low: bool,
    /// The highest temporal layer forwarded (VP8), and where changes apply.
    pub(crate) temporal_cap: super::temporal::TemporalCap,
    /// The temporal cap the downlink needs (the lowest layer does not fit whole).
    pub(crate) budget_cap: Option<u8>,
    /// Frames per second the subscriber asked for (`UpdateTrackSettings.fps`; 0: all).
    pub(crate) max_fps: u32,
    /// Packets and pictures the temporal cap dropped, for renumbering.
    pub(crate) gaps: super::temporal::Gaps,
    /// When its media first left for the subscriber: video is not paused for
    /// bandwidth in the first [`super::adapt::START_GRACE`] after it.
    pub(crate) first_sent: Option<Instant>,
}

impl DownTrack {
    pub(crate) fn mid(&self) -> Option<Mid> {
        match self.state {
            DownState::Wanted => None,
            DownState::Negotiating(m) | DownState::Open(m) => Some(m),
        }
    }
}

/// Data channels by label, per side.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    pub(crate) by_id: HashMap<(Side, ChannelId), String>,
}

impl Channels {
    /// The channel with `label` on `side`.
    pub(crate) fn find(&self, side: Side, label: &str) -> Option<ChannelId> {
        self.by_id
            .iter()
            .find(|((s, _), l)| *s == side && l.as_str() == label)
            .map(|((_, id), _)| *id)
    }
}

/// One participant session.
pub(crate) struct Participant {
    pub(crate) sid: String,
    pub(crate) grant: JoinGrant,
    pub(crate) room: String,
    pub(crate) mode: PeerMode,
    pub(crate) joined_unix_ms: i64,
    pub(crate) joined_at: Instant,
    /// STUN/TURN servers offered in the join response.
    pub(crate) ice_servers: Vec<proto::IceServer>,
    /// Incremented on every change others are told about.
    pub(crate) version: u32,
    pub(crate) auto_subscribe: bool,
    /// Estimated downlink (str0m's TWCC estimate of what the SFU can send it).
    pub(crate) downlink_bps: Option<u64>,
    /// Whether forwarded video to it is paced (str0m's leaky bucket at about its
    /// estimate) rather than sent as it arrives: chosen with the layers, by how much
    /// room the estimate leaves over what is sent (`Core::reselect_layers`).
    pub(crate) paced_downlink: bool,
    /// Participant attributes (set by the room service).
    pub(crate) attributes: HashMap<String, String>,
    pub(crate) publisher: Peer,
    pub(crate) subscriber: Option<Peer>,
    pub(crate) published: Vec<UpTrack>,
    pub(crate) down: Vec<DownTrack>,
    /// Tracks the client unsubscribed from explicitly.
    pub(crate) unsubscribed: HashSet<String>,
    pub(crate) channels: Channels,
    /// Dual mode: the SFU's offer awaiting the client's answer, and its id.
    pub(crate) pending_offer: Option<(SdpPendingOffer, u32)>,
    pub(crate) next_offer_id: u32,
    /// Dual mode: the data channels were put into the first subscriber offer.
    pub(crate) subscriber_channels_added: bool,
    /// Dual mode: m-sections of removed down tracks, to stop in the next offer.
    pub(crate) stopped_mids: Vec<Mid>,
    /// Single mode: the client handles open receive sections (spare ones answered
    /// `sendonly`, bound to tracks without a new offer; [`bedside_signal::ext`]).
    pub(crate) open_sections: bool,
    /// Single mode: the client's `recvonly` sections, by mid, and which track each carries.
    pub(crate) send_sections: Vec<(Mid, MediaKind, Option<String>)>,
    /// Receive sections of its offers that no announced track has claimed yet.
    pub(crate) unbound_sections: Vec<super::receive_sections::ReceiveSection>,
    /// What each of this participant's sending sections sent last. A layer switch, or
    /// (on one connection) the next track a section carries, continues its sequence
    /// numbers, times and picture ids from here: a receiver drops packets that run
    /// backwards on the same stream, and would play nothing.
    pub(crate) section_out: crate::FastMap<Mid, super::rtp_out::SectionOut>,
    /// Single mode: the client must send a new offer (sections to add or to stop).
    pub(crate) wants_client_offer: bool,
    /// Single mode: an answer has been sent (the client offers again from here on).
    pub(crate) answered_once: bool,
    /// Traffic and control counters (`/metrics`).
    pub(crate) metrics: super::metrics::ParticipantMetrics,
    /// When the signaling socket dropped (the session may still resume).
    pub(crate) signal_lost_at: Option<Instant>,
    /// Dual mode: the next subscriber offer restarts ICE (after a resume).
    pub(crate) restart_subscriber_ice: bool,
    /// Candidates were trickled for a side already.
    pub(crate) trickled: HashSet<Side>,
    /// Who may subscribe to this participant's tracks (`SubscriptionPermission`); `None`
    /// is everyone, LiveKit's default.
    pub(crate) subscription_permission: Option<livekit_protocol::SubscriptionPermission>,
    /// Data packets this participant may still send to the room (packets per second).
    pub(crate) data_packets: super::rate::TokenBucket,
    /// Data bytes likewise.
    pub(crate) data_bytes: super::rate::TokenBucket,
    /// Its connection quality, and what it was told of everyone's.
    pub(crate) quality: super::quality::QualityTracker,
    /// It was told who speaks (after that, only changes).
    pub(crate) told_speakers: bool,
}

/// How long after its media connects a client is told the room's state (connection
/// qualities, speakers): see [`Participant::media_settled`].
pub(crate) const SETTLE: Duration = Duration::from_secs(2);

/// What one participant may send over data channels: packets and bytes per second, with
/// a burst of twice that. Chat, reactions and state sync stay far below it.
pub(crate) const DATA_PACKETS_PER_SECOND: f64 = 100.0;
/// See [`DATA_PACKETS_PER_SECOND`].
pub(crate) const DATA_BYTES_PER_SECOND: f64 = 256.0 * 1024.0;

impl Participant {
    /// Whether `subscriber` may receive this participant's track `track_sid`.
    pub(crate) fn allows(&self, subscriber: &Participant, track_sid: &str) -> bool {
        let Some(permission) = &self.subscription_permission else {
            return true;
        };
        permission.all_participants
            || permission.track_permissions.iter().any(|p| {
                let named = (!p.participant_identity.is_empty()
                    && p.participant_identity == subscriber.grant.identity)
                    || (!p.participant_sid.is_empty() && p.participant_sid == subscriber.sid);
                named && (p.all_tracks || p.track_sids.iter().any(|s| s == track_sid))
            })
    }

    pub(crate) fn rtc(&self, side: Side) -> Option<&Rtc> {
        match side {
            Side::Publisher => Some(&self.publisher.rtc),
            Side::Subscriber => self.subscriber.as_ref().map(|p| &p.rtc),
        }
    }

    pub(crate) fn peer_mut(&mut self, side: Side) -> Option<&mut Peer> {
        match side {
            Side::Publisher => Some(&mut self.publisher),
            Side::Subscriber => self.subscriber.as_mut(),
        }
    }

    /// The side remote tracks are sent on.
    /// Whether its transport on `side` sends beside str0m (`fast_tx.rs`).
    pub(crate) fn sends_beside(&self, side: Side) -> bool {
        match side {
            Side::Publisher => self.publisher.send.is_some(),
            Side::Subscriber => self.subscriber.as_ref().is_some_and(|p| p.send.is_some()),
        }
    }

    pub(crate) fn down_side(&self) -> Side {
        match self.mode {
            PeerMode::Single => Side::Publisher,
            PeerMode::Dual => Side::Subscriber,
        }
    }

    pub(crate) fn handle_rtc_input(&mut self, side: Side, input: Input) {
        let Some(peer) = self.peer_mut(side) else {
            return;
        };
        if !peer.rtc.is_alive() {
            return;
        }
        if let Err(error) = peer.rtc.handle_input(input) {
            disconnect_failed(&mut peer.rtc, &error, "sfu peer input failed");
        }
    }

    pub(crate) fn due_peers(&self, now: Instant) -> Vec<Side> {
        [Side::Publisher, Side::Subscriber]
            .into_iter()
            .filter(|side| {
                let peer = match side {
                    Side::Publisher => Some(&self.publisher),
                    Side::Subscriber => self.subscriber.as_ref(),
                };
                peer.and_then(|p| p.timeout).is_some_and(|t| t <= now)
            })
            .collect()
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let own = self.publisher.timeout;
        let sub = self.subscriber.as_ref().and_then(|p| p.timeout);
        let fast = self.publisher.fast.as_ref().and_then(|f| f.poll_timeout());
        let send = std::iter::once(&self.publisher)
            .chain(self.subscriber.as_ref())
            .filter_map(|p| p.send.as_ref()?.poll_timeout())
            .min();
        [own, sub, fast, send].into_iter().flatten().min()
    }

    /// Polls one peer; returns the events it raised.
    pub(crate) fn poll_peer(
        &mut self,
        now: Instant,
        side: Side,
        outputs: &mut VecDeque<CoreOutput>,
    ) -> Vec<str0m::Event> {
        let mut events = Vec::new();
        if let Some(peer) = self.peer_mut(side) {
            if peer.rtc.is_alive() {
                let start = outputs.len();
                peer.timeout = poll_rtc(now, &mut peer.rtc, outputs, &mut events);
                if peer.fast.is_some() {
                    super::fast_streams::drop_str0m_transport_feedback(outputs, start);
                }
                if let Some(send) = peer.send.as_mut() {
                    send.take_str0m_outputs(now, outputs, start);
                } else if peer.send_beside {
                    peer.watch_str0m_outputs(outputs, start);
                }
            } else {
                peer.timeout = None;
            }
        }
        events
    }

    /// Its primary peer connection: the one media reaches it on.
    fn primary(&self) -> &Peer {
        match self.mode {
            PeerMode::Single => &self.publisher,
            PeerMode::Dual => self.subscriber.as_ref().unwrap_or(&self.publisher),
        }
    }

    /// Its primary peer connection is connected.
    pub(crate) fn media_connected(&self) -> bool {
        self.primary().connected
    }

    /// Its media connected at least [`SETTLE`] ago: its client has set itself up. Room
    /// state told before that can be lost: livekit-client drops quality and speaker
    /// events until its room is connected, and keeps the values without an event, so a
    /// later repeat changes nothing. LiveKit's server tells its first connection
    /// qualities seconds after a join, too.
    pub(crate) fn media_settled(&self, now: Instant) -> bool {
        self.primary()
            .connected_at
            .is_some_and(|at| now >= at + SETTLE)
    }

    /// Why this participant must go, if it must.
    pub(crate) fn expired(&self, now: Instant, ice_timeout: Duration) -> Option<DisconnectReason> {
        if let Some(lost) = self.signal_lost_at
            && now >= lost + super::resume::RESUME_GRACE
        {
            return Some(DisconnectReason::SignalClose);
        }
        let peers = std::iter::once(&self.publisher).chain(self.subscriber.as_ref());
        for peer in peers {
            if !peer.rtc.is_alive() {
                return Some(DisconnectReason::MediaFailure);
            }
            if let Some(at) = peer.disconnected_at
                && now >= at + ice_timeout
            {
                return Some(DisconnectReason::ConnectionTimeout);
            }
        }
        if !self.media_connected() && now >= self.joined_at + ice_timeout {
            return Some(DisconnectReason::ConnectionTimeout);
        }
        None
    }
}

pub(crate) use super::poll_rtc::{disconnect_failed, poll_rtc};
