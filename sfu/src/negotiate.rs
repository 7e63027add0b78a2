//! SDP negotiation: the client's publisher offers, the SFU's subscriber offers (dual
//! mode), and the assignment of remote tracks to the client's receive sections (single
//! mode, see [`super::sdp_text`]).

use std::collections::HashMap;
use std::time::Instant;

use livekit_protocol as proto;
use proto::signal_response;
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::channel::ChannelConfig;
use str0m::channel::Reliability;
use str0m::media::{Direction, MediaKind, Mid};

use bedside_signal::ext::{SectionAssignment, SectionsAssigned};

use super::core::{ConnId, Core, CoreOutput, PeerMode};
use super::participant::{DownState, Participant, Side};
use super::sdp_text::{self, SectionKind, Spare};

/// Label of the ordered, reliable data channel.
pub(crate) const RELIABLE: &str = "_reliable";
/// Label of the unordered, no-retransmit data channel.
pub(crate) const LOSSY: &str = "_lossy";

impl Core {
    /// The client's offer on its publisher connection (in single mode: its only one).
    pub(crate) fn publisher_offer(
        &mut self,
        now: Instant,
        conn: ConnId,
        offer: proto::SessionDescription,
    ) {
        let Ok(sdp) = SdpOffer::from_sdp_string(&offer.sdp) else {
            return self.fail(now, conn, "unparsable offer");
        };
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let answer = match p.publisher.rtc.sdp_api().accept_offer(sdp) {
            Ok(answer) => answer.to_sdp_string(),
            Err(error) => {
                // str0m errors can quote SDP or addresses: their text stays at debug level.
                tracing::info!("sfu offer refused");
                tracing::debug!(%error, "sfu offer refused");
                return self.fail(now, conn, "offer refused");
            }
        };
        self.dirty.insert((conn, Side::Publisher));
        let (sdp, mid_to_track_id, opened) = match p.mode {
            PeerMode::Single => self.assign_sections(conn, &answer),
            PeerMode::Dual => (answer, HashMap::new(), Vec::new()),
        };
        let description = proto::SessionDescription {
            r#type: "answer".to_string(),
            sdp,
            id: offer.id,
            mid_to_track_id,
        };
        self.send(conn, signal_response::Message::Answer(description.clone()));
        self.trickle_local(conn, Side::Publisher, &description.sdp);
        for (publisher, sid) in opened {
            self.request_track_keyframes(now, publisher, &sid);
        }
        self.needs_negotiation.insert(conn);
    }

    /// Single mode: gives waiting down tracks a free receive section of the client's and
    /// rewrites the answer to say so. Returns the answer, `mid_to_track_id` and the
    /// tracks opened now (publisher, track sid).
    fn assign_sections(
        &mut self,
        conn: ConnId,
        answer: &str,
    ) -> (String, HashMap<String, String>, Vec<(ConnId, String)>) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return (answer.to_string(), HashMap::new(), Vec::new());
        };
        // Only sections this answer sends on can carry a track; a section the client
        // made inactive (or stopped) loses its track, which waits for another one.
        let current = sdp_text::send_sections(answer);
        let mids: Vec<Mid> = current.iter().map(|s| Mid::from(s.mid.as_str())).collect();
        p.send_sections.retain(|s| mids.contains(&s.0));
        for d in p.down.iter_mut() {
            if let DownState::Open(mid) = d.state
                && !mids.contains(&mid)
            {
                d.state = DownState::Wanted;
            }
        }
        for (section, mid) in current.iter().zip(mids) {
            if !p.send_sections.iter().any(|s| s.0 == mid) {
                let kind = match section.kind {
                    SectionKind::Audio => MediaKind::Audio,
                    SectionKind::Video => MediaKind::Video,
                };
                p.send_sections.push((mid, kind, None));
            }
        }
        let opened = bind_free_sections(p)
            .into_iter()
            .map(|(publisher, sid, _)| (publisher, sid))
            .collect();
        let mut assigned = HashMap::new();
        let mut mid_to_track_id = HashMap::new();
        for d in &p.down {
            if let DownState::Open(mid) = d.state {
                let stream = format!("{}|{}", d.publisher_sid, d.track_sid);
                assigned.insert(mid.to_string(), (stream, d.track_sid.clone()));
                mid_to_track_id.insert(mid.to_string(), d.track_sid.clone());
            }
        }
        p.answered_once = true;
        p.wants_client_offer = false;
        let spare = if p.open_sections {
            Spare::Open
        } else {
            Spare::Inactive
        };
        let sdp = sdp_text::assign_send_sections(answer, &assigned, spare);
        (sdp, mid_to_track_id, opened)
    }

    /// Single mode with open sections ([`bedside_signal::ext`]): binds tracks waiting
    /// for a section to free ones the client was already answered `sendonly`, starts
    /// their forwarding at once, and tells the client which mid carries which track. No
    /// offer or answer is needed; whatever still waits asks for one as usual.
    fn bind_open_sections(&mut self, now: Instant, conn: ConnId) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        if !p.open_sections || !p.answered_once {
            return;
        }
        let bound = bind_free_sections(p);
        if bound.is_empty() {
            return;
        }
        let sections = bound
            .iter()
            .map(|(_, track_sid, mid)| SectionAssignment {
                mid: mid.to_string(),
                track_sid: track_sid.clone(),
            })
            .collect();
        self.outputs.push_back(CoreOutput::SectionsAssigned {
            conn,
            assigned: SectionsAssigned { sections },
        });
        for (publisher, sid, _) in bound {
            self.request_track_keyframes(now, publisher, &sid);
        }
    }

    /// The client's answer to the SFU's subscriber offer (dual mode).
    pub(crate) fn subscriber_answer(
        &mut self,
        now: Instant,
        conn: ConnId,
        answer: proto::SessionDescription,
    ) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let Some((pending, id)) = p.pending_offer.take() else {
            return tracing::debug!(conn, "sfu ignores an answer to no offer");
        };
        if answer.id != 0 && answer.id != id {
            p.pending_offer = Some((pending, id));
            return tracing::debug!(conn, "sfu ignores a stale answer");
        }
        let Ok(sdp) = SdpAnswer::from_sdp_string(&answer.sdp) else {
            return self.fail(now, conn, "unparsable answer");
        };
        let Some(sub) = p.subscriber.as_mut() else {
            return;
        };
        if let Err(error) = sub.rtc.sdp_api().accept_answer(pending, sdp) {
            // str0m errors can quote SDP or addresses: their text stays at debug level.
            tracing::info!("sfu answer refused");
            tracing::debug!(%error, "sfu answer refused");
            return self.fail(now, conn, "answer refused");
        }
        p.subscriber_channels_added = true;
        let mut opened = Vec::new();
        for d in p.down.iter_mut() {
            if let DownState::Negotiating(mid) = d.state {
                d.state = DownState::Open(mid);
                d.needs_keyframe = true;
                opened.push((d.publisher, d.track_sid.clone()));
            }
        }
        self.dirty.insert((conn, Side::Subscriber));
        for (publisher, sid) in opened {
            self.request_track_keyframes(now, publisher, &sid);
        }
        self.needs_negotiation.insert(conn);
    }

    /// Starts whatever negotiation the participants marked need.
    pub(crate) fn negotiate_pending(&mut self, now: Instant) {
        let conns: Vec<ConnId> = std::mem::take(&mut self.needs_negotiation)
            .into_iter()
            .collect();
        for conn in conns {
            match self.participants.get(&conn).map(|p| p.mode) {
                Some(PeerMode::Dual) => self.offer_subscriber(conn),
                Some(PeerMode::Single) => {
                    self.bind_open_sections(now, conn);
                    self.request_client_offer(conn);
                }
                None => {}
            }
        }
    }

    /// Dual mode: offers the subscriber connection's changes (data channels first time,
    /// new down tracks, stopped ones), unless an offer is still unanswered.
    fn offer_subscriber(&mut self, conn: ConnId) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        if p.pending_offer.is_some() {
            return;
        }
        let Some(sub) = p.subscriber.as_mut() else {
            return;
        };
        let mut api = sub.rtc.sdp_api();
        if std::mem::take(&mut p.restart_subscriber_ice) {
            api.ice_restart(true);
        }
        if !p.subscriber_channels_added {
            api.add_channel_with_config(ChannelConfig {
                label: RELIABLE.to_string(),
                ..Default::default()
            });
            api.add_channel_with_config(ChannelConfig {
                label: LOSSY.to_string(),
                ordered: false,
                reliability: Reliability::MaxRetransmits { retransmits: 0 },
                ..Default::default()
            });
        }
        for d in p.down.iter_mut().filter(|d| d.state == DownState::Wanted) {
            let stream = format!("{}|{}", d.publisher_sid, d.track_sid);
            let mid = api.add_media(
                d.kind,
                Direction::SendOnly,
                Some(stream),
                Some(d.track_sid.clone()),
                None,
            );
            d.state = DownState::Negotiating(mid);
        }
        for mid in p.stopped_mids.drain(..) {
            api.stop_media(mid);
        }
        if !api.has_changes() {
            return;
        }
        let Some((offer, pending)) = api.apply() else {
            return;
        };
        let id = p.next_offer_id;
        p.next_offer_id += 1;
        p.pending_offer = Some((pending, id));
        let mid_to_track_id = p
            .down
            .iter()
            .filter_map(|d| d.mid().map(|m| (m.to_string(), d.track_sid.clone())))
            .collect();
        let description = proto::SessionDescription {
            r#type: "offer".to_string(),
            sdp: offer.to_sdp_string(),
            id,
            mid_to_track_id,
        };
        self.dirty.insert((conn, Side::Subscriber));
        self.send(conn, signal_response::Message::Offer(description.clone()));
        self.trickle_local(conn, Side::Subscriber, &description.sdp);
    }

    /// Single mode: asks the client for a new offer when tracks wait for sections (adding
    /// as many sections as are missing) or sections must be released.
    fn request_client_offer(&mut self, conn: ConnId) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        if !p.answered_once {
            return;
        }
        let free = |kind: MediaKind| {
            p.send_sections
                .iter()
                .filter(|s| s.1 == kind && s.2.is_none())
                .count()
        };
        let wanted = |kind: MediaKind| {
            p.down
                .iter()
                .filter(|d| d.kind == kind && d.state == DownState::Wanted)
                .count()
        };
        let audios = wanted(MediaKind::Audio).saturating_sub(free(MediaKind::Audio));
        let videos = wanted(MediaKind::Video).saturating_sub(free(MediaKind::Video));
        let any_wanted = wanted(MediaKind::Audio) + wanted(MediaKind::Video) > 0;
        if !any_wanted && !p.wants_client_offer {
            return;
        }
        p.wants_client_offer = false;
        let requirement = proto::MediaSectionsRequirement {
            num_audios: audios as u32,
            num_videos: videos as u32,
        };
        self.send(
            conn,
            signal_response::Message::MediaSectionsRequirement(requirement),
        );
    }

    /// Sends the SFU's host candidate once per connection (it is also in the SDP).
    fn trickle_local(&mut self, conn: ConnId, side: Side, sdp: &str) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        if !p.trickled.insert(side) {
            return;
        }
        let target = match side {
            Side::Publisher => proto::SignalTarget::Publisher,
            Side::Subscriber => proto::SignalTarget::Subscriber,
        };
        let Ok(candidate) = str0m::Candidate::host(self.config.public_addr, "udp") else {
            return;
        };
        let init = serde_json::json!({
            "candidate": candidate.to_sdp_string(),
            "sdpMid": sdp_text::first_mid(sdp).unwrap_or_default(),
            "sdpMLineIndex": 0,
        });
        let trickle = proto::TrickleRequest {
            candidate_init: init.to_string(),
            target: target as i32,
            r#final: false,
        };
        self.send(conn, signal_response::Message::Trickle(trickle));
    }
}

/// Single mode: gives each down track waiting for a section a free one of its kind.
/// Returns what it bound: (publisher, track sid, section).
fn bind_free_sections(p: &mut Participant) -> Vec<(ConnId, String, Mid)> {
    let mut bound = Vec::new();
    for d in p.down.iter_mut().filter(|d| d.state == DownState::Wanted) {
        let free = p
            .send_sections
            .iter_mut()
            .find(|s| s.1 == d.kind && s.2.is_none());
        if let Some(section) = free {
            section.2 = Some(d.track_sid.clone());
            d.state = DownState::Open(section.0);
            d.needs_keyframe = true;
            bound.push((d.publisher, d.track_sid.clone(), section.0));
        }
    }
    bound
}
