//! A publisher's receive sections and the tracks they carry.
//!
//! A section is bound to the announced track (`AddTrackRequest`) whose client id is the
//! section's SDP track id, or failing that to an unbound track of its kind. Either may
//! come first: a client announces a track and offers its section together, or (ours,
//! for a patient in the waiting room) negotiates an empty section ahead and announces
//! the track when the grant allows it. An unbound section is kept until a track claims
//! it; packets on it are dropped meanwhile.

use str0m::Rtc;
use str0m::media::{MediaAdded, MediaKind, Mid, Rid};

use super::core::{ConnId, Core};
use super::participant::Participant;
use super::signaling::MAX_TRACKS_PER_PARTICIPANT;

/// A receive section of the client's offer that no track has claimed yet.
#[derive(Debug, Clone)]
pub(crate) struct ReceiveSection {
    pub(crate) mid: Mid,
    pub(crate) kind: MediaKind,
    /// Its simulcast layers.
    pub(crate) rids: Vec<Rid>,
}

impl Core {
    /// A receive section appeared in the client's offer: bound to its announced track,
    /// or kept for the track to come.
    pub(crate) fn media_added(&mut self, conn: ConnId, added: MediaAdded) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let section = ReceiveSection {
            mid: added.mid,
            kind: added.kind,
            rids: added
                .simulcast
                .map(|s| s.recv.iter().map(|l| l.rid).collect())
                .unwrap_or_default(),
        };
        let track_id = section_track_id(&p.publisher.rtc, section.mid);
        let unbound = |t: &super::participant::UpTrack| t.mid.is_none();
        let track = p
            .published
            .iter()
            .position(|t| unbound(t) && t.cid == track_id)
            .or_else(|| {
                p.published
                    .iter()
                    .position(|t| unbound(t) && t.kind == section.kind)
            });
        match track {
            Some(index) => bind(p, index, section),
            None if p.unbound_sections.len() < MAX_TRACKS_PER_PARTICIPANT => {
                tracing::debug!(conn, "sfu keeps a section for a track to come");
                p.unbound_sections.push(section);
            }
            None => tracing::debug!(conn, "sfu ignores a section beyond the track limit"),
        }
    }
}

/// A track was just announced as `published[index]`: it takes a section negotiated
/// ahead for it, if there is one.
pub(crate) fn claim_section(p: &mut Participant, index: usize) {
    let (cid, kind) = (&p.published[index].cid, p.published[index].kind);
    let rtc = &p.publisher.rtc;
    let found = p
        .unbound_sections
        .iter()
        .position(|s| section_track_id(rtc, s.mid) == *cid)
        .or_else(|| p.unbound_sections.iter().position(|s| s.kind == kind));
    if let Some(found) = found {
        let section = p.unbound_sections.remove(found);
        bind(p, index, section);
    }
}

/// The section is gone from the negotiation.
pub(crate) fn forget_section(p: &mut Participant, mid: Mid) {
    p.unbound_sections.retain(|s| s.mid != mid);
}

fn section_track_id(rtc: &Rtc, mid: Mid) -> String {
    rtc.media(mid)
        .map(|m| m.track_id().to_string())
        .unwrap_or_default()
}

fn bind(p: &mut Participant, index: usize, section: ReceiveSection) {
    // The codec is known from the negotiation, before any packet: subscribers joining
    // from now on learn it in the track's info (an E2EE subscriber needs it to set up
    // its decryption).
    let rtc = &p.publisher.rtc;
    let mime = rtc
        .media(section.mid)
        .and_then(|m| m.remote_pts().first().copied())
        .and_then(|pt| rtc.codec_config().params().iter().find(|c| c.pt() == pt))
        .map(|c| format!("{}/{}", section.kind, c.spec().codec).to_lowercase());
    let track = &mut p.published[index];
    if let Some(mime) = mime {
        track.info.mime_type = mime;
    }
    track.mid = Some(section.mid);
    track.info.mid = section.mid.to_string();
    track.rids = section.rids;
}
