//! The other participants and their tracks, as the server describes them, joined with
//! the media the browser delivers (matched by the answer's `mid_to_track_id` on one
//! connection, or the `PA_…|TR_…` stream id on two).

use std::collections::HashMap;

use bedside_signal::proto::{self, participant_info};
use web_sys::MediaStreamTrack;

use crate::engine::RemoteMedia;
use crate::room::RoomEvent;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    /// Audio.
    Audio,
    /// Video.
    Video,
}

/// A track another participant publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteTrack {
    /// The server's track sid (`TR_…`).
    pub sid: String,
    /// Audio or video.
    pub kind: TrackKind,
    /// Camera, microphone, screen share (the protocol's `TrackSource`).
    pub source: proto::TrackSource,
    /// The publisher muted it.
    pub muted: bool,
    /// The server paused it: this side's downlink cannot carry even its lowest layer
    /// (`StreamStateUpdate`); it resumes by itself when the link allows.
    pub paused: bool,
    /// The media, once it arrived.
    pub media: Option<MediaStreamTrack>,
    /// Where it arrives (for its statistics).
    pub(crate) receiver: Option<web_sys::RtcRtpReceiver>,
}

/// Another participant in the room.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteParticipant {
    /// The server's participant sid (`PA_…`).
    pub sid: String,
    /// The identity in their token.
    pub identity: String,
    /// Their display name.
    pub name: String,
    /// Their metadata (for Bedside: their role).
    pub metadata: String,
    /// Their published tracks.
    pub tracks: Vec<RemoteTrack>,
    /// Their connection as the server grades it (`ConnectionQualityUpdate`: the loss
    /// and round trip of their links, and what the server paused for them); `None`
    /// until it said.
    pub connection_quality: Option<crate::stats::Quality>,
    /// They are speaking now (the server's `SpeakersChanged`, from the audio levels
    /// their microphone packets carry).
    pub speaking: bool,
    /// How loud, 0 to 1, when they started speaking.
    pub audio_level: f32,
}

/// Remote participants and the media waiting for a track description.
#[derive(Default)]
pub(crate) struct Remotes {
    pub(crate) participants: Vec<RemoteParticipant>,
    mid_to_track: HashMap<String, String>,
    unmatched: Vec<RemoteMedia>,
}

impl Remotes {
    /// Media sections → track sids, from an answer.
    pub(crate) fn learn_mids(&mut self, mids: HashMap<String, String>) {
        self.mid_to_track.extend(mids);
    }

    /// Whether an answer mapped this media section to a track.
    pub(crate) fn knows_mid(&self, mid: &str) -> bool {
        self.mid_to_track.contains_key(mid)
    }

    /// Replaces everything (a join or rejoin).
    pub(crate) fn reset(
        &mut self,
        list: Vec<proto::ParticipantInfo>,
        own_sid: &str,
    ) -> Vec<RoomEvent> {
        self.participants.clear();
        self.mid_to_track.clear();
        self.unmatched.clear();
        self.update(list, own_sid)
    }

    /// Applies a participant update.
    pub(crate) fn update(
        &mut self,
        list: Vec<proto::ParticipantInfo>,
        own_sid: &str,
    ) -> Vec<RoomEvent> {
        for info in list {
            if info.sid == own_sid {
                continue;
            }
            let gone = info.state == participant_info::State::Disconnected as i32;
            let index = self.participants.iter().position(|p| p.sid == info.sid);
            match (index, gone) {
                (Some(i), true) => {
                    self.participants.remove(i);
                }
                (None, true) => {}
                (index, false) => {
                    let previous = index.map(|i| std::mem::take(&mut self.participants[i].tracks));
                    let tracks = info
                        .tracks
                        .iter()
                        .map(|t| {
                            let old = previous
                                .as_ref()
                                .and_then(|old| old.iter().find(|o| o.sid == t.sid));
                            let media = old.and_then(|o| o.media.clone());
                            let paused = old.is_some_and(|o| o.paused);
                            let receiver = old.and_then(|o| o.receiver.clone());
                            RemoteTrack {
                                sid: t.sid.clone(),
                                kind: if t.r#type == proto::TrackType::Audio as i32 {
                                    TrackKind::Audio
                                } else {
                                    TrackKind::Video
                                },
                                source: proto::TrackSource::try_from(t.source).unwrap_or_default(),
                                muted: t.muted,
                                paused,
                                media,
                                receiver,
                            }
                        })
                        .collect();
                    let kept = index.map(|i| &self.participants[i]);
                    let connection_quality = kept.and_then(|p| p.connection_quality);
                    let (speaking, audio_level) =
                        kept.map_or((false, 0.0), |p| (p.speaking, p.audio_level));
                    let participant = RemoteParticipant {
                        sid: info.sid.clone(),
                        identity: info.identity.clone(),
                        name: info.name.clone(),
                        metadata: info.metadata.clone(),
                        tracks,
                        connection_quality,
                        speaking,
                        audio_level,
                    };
                    match index {
                        Some(i) => self.participants[i] = participant,
                        None => self.participants.push(participant),
                    }
                }
            }
        }
        let mut events = vec![RoomEvent::ParticipantsChanged];
        let waiting = std::mem::take(&mut self.unmatched);
        for media in waiting {
            events.extend(self.add_media(media));
        }
        events
    }

    /// Media from `ontrack`: attached to its track, or kept until the track is known.
    pub(crate) fn add_media(&mut self, media: RemoteMedia) -> Vec<RoomEvent> {
        let by_mid = media
            .mid
            .as_ref()
            .and_then(|mid| self.mid_to_track.get(mid))
            .cloned();
        let by_stream = media
            .stream_id
            .as_ref()
            .and_then(|id| id.split_once('|'))
            .map(|(_, track)| track.to_owned());
        let candidates = [by_mid, by_stream, Some(media.track.id())];
        for sid in candidates.into_iter().flatten() {
            for participant in &mut self.participants {
                if let Some(track) = participant.tracks.iter_mut().find(|t| t.sid == sid) {
                    let id = media.track.id();
                    if track.media.as_ref().is_some_and(|m| m.id() == id) {
                        return Vec::new();
                    }
                    track.media = Some(Clone::clone(&media.track));
                    track.receiver = Some(media.receiver.clone());
                    return vec![RoomEvent::TrackSubscribed {
                        participant: participant.identity.clone(),
                        track_sid: sid,
                    }];
                }
            }
        }
        let id = media.track.id();
        self.unmatched.retain(|m| m.track.id() != id);
        self.unmatched.push(media);
        Vec::new()
    }

    /// Applies the server's `StreamStateUpdate`: which tracks it paused or resumed.
    pub(crate) fn set_stream_states(
        &mut self,
        states: &[proto::StreamStateInfo],
    ) -> Vec<RoomEvent> {
        let mut changed = false;
        for state in states {
            let paused = state.state == proto::StreamState::Paused as i32;
            for track in self
                .participants
                .iter_mut()
                .flat_map(|p| p.tracks.iter_mut())
                .filter(|t| t.sid == state.track_sid && t.paused != paused)
            {
                track.paused = paused;
                changed = true;
            }
        }
        if changed {
            vec![RoomEvent::ParticipantsChanged]
        } else {
            Vec::new()
        }
    }

    /// Applies the server's `ConnectionQualityUpdate` (our own grade in it is left:
    /// the local statistics say more about our side, [`crate::stats`]).
    pub(crate) fn set_connection_qualities(
        &mut self,
        updates: &[proto::ConnectionQualityInfo],
    ) -> Vec<RoomEvent> {
        let mut changed = false;
        for update in updates {
            let quality = match proto::ConnectionQuality::try_from(update.quality) {
                Ok(proto::ConnectionQuality::Excellent) => crate::stats::Quality::Excellent,
                Ok(proto::ConnectionQuality::Good) => crate::stats::Quality::Good,
                Ok(proto::ConnectionQuality::Poor) => crate::stats::Quality::Poor,
                Ok(proto::ConnectionQuality::Lost) => crate::stats::Quality::Lost,
                Err(_) => continue,
            };
            for p in self
                .participants
                .iter_mut()
                .filter(|p| p.sid == update.participant_sid)
                .filter(|p| p.connection_quality != Some(quality))
            {
                p.connection_quality = Some(quality);
                changed = true;
            }
        }
        if changed {
            vec![RoomEvent::ParticipantsChanged]
        } else {
            Vec::new()
        }
    }

    /// Applies the server's `SpeakersChanged`: who started or stopped speaking.
    pub(crate) fn set_speakers(&mut self, speakers: &[proto::SpeakerInfo]) -> Vec<RoomEvent> {
        let mut changed = false;
        for speaker in speakers {
            for p in self
                .participants
                .iter_mut()
                .filter(|p| p.sid == speaker.sid)
            {
                changed |= p.speaking != speaker.active;
                p.speaking = speaker.active;
                p.audio_level = speaker.level;
            }
        }
        if changed {
            vec![RoomEvent::ParticipantsChanged]
        } else {
            Vec::new()
        }
    }

    /// Each remote track's sid and receiver, for statistics.
    pub(crate) fn receivers(&self) -> Vec<(String, web_sys::RtcRtpReceiver)> {
        self.participants
            .iter()
            .flat_map(|p| p.tracks.iter())
            .filter_map(|t| Some((t.sid.clone(), t.receiver.clone()?)))
            .collect()
    }

    /// The media of a remote track.
    pub(crate) fn media(&self, sid: &str) -> Option<MediaStreamTrack> {
        self.participants
            .iter()
            .flat_map(|p| p.tracks.iter())
            .find(|t| t.sid == sid)
            .and_then(|t| t.media.clone())
    }
}
