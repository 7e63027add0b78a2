//! Who is speaking (LiveKit's `SpeakersChanged`), from the audio level each publisher's
//! packets carry (RFC 6464 `ssrc-audio-level`: the browser measures its microphone
//! before it encodes, so the SFU never decodes audio).
//!
//! Every [`SPEAKER_INTERVAL`] each published audio track's packets of the interval are
//! looked at: a track speaks when at least [`SPEAKING_SHARE`] of them are louder than
//! [`SPEAKING_DBOV`], and its level is the mean loudness of those, as a linear amplitude
//! from 0 to 1, smoothed over two intervals. One loud packet (a door, a cough) is not
//! speech; a pause between words of under an interval does not end it. LiveKit's
//! defaults are alike (35 dBov, 40% of an interval).
//!
//! A room is told what changed since it was last told: who started speaking (with
//! their level) and who stopped (level 0); someone whose client has settled, two seconds
//! after its media connected, is told who speaks now (livekit-client drops speaker
//! events that arrive while it connects). LiveKit's clients keep the list of active
//! speakers from these changes, loudest first. Hidden participants are neither counted
//! nor told about; a muted track does not speak.

use std::collections::BTreeMap;
use std::time::Duration;

use livekit_protocol as proto;
use str0m::media::MediaKind;

use super::core::Core;

/// How often speech is evaluated and the rooms told.
pub(crate) const SPEAKER_INTERVAL: Duration = Duration::from_millis(400);
/// Louder than this (in dBov, 0 is full scale) counts as speech.
pub(crate) const SPEAKING_DBOV: i8 = -35;
/// The share of an interval's packets that must be speech for the track to speak.
pub(crate) const SPEAKING_SHARE: f32 = 0.4;

/// One published audio track's levels over the current interval.
#[derive(Debug, Clone, Default)]
pub(crate) struct VoiceMeter {
    packets: u32,
    loud: u32,
    /// Sum of the loud packets' linear amplitudes.
    loud_amplitude: f32,
    /// The level last reported (for smoothing).
    smoothed: f32,
}

impl VoiceMeter {
    /// One packet's level, in dBov (0 loudest, -127 silence).
    pub(crate) fn record(&mut self, dbov: i8) {
        self.packets += 1;
        if dbov > SPEAKING_DBOV {
            self.loud += 1;
            self.loud_amplitude += 10f32.powf(f32::from(dbov) / 20.0);
        }
    }

    /// Ends the interval: the track's level if it spoke in it.
    pub(crate) fn take(&mut self) -> Option<f32> {
        let speaking = self.packets > 0 && self.loud as f32 >= SPEAKING_SHARE * self.packets as f32;
        let level = if speaking {
            self.loud_amplitude / self.loud as f32
        } else {
            0.0
        };
        self.smoothed = (self.smoothed + level) / 2.0;
        self.packets = 0;
        self.loud = 0;
        self.loud_amplitude = 0.0;
        speaking.then_some(self.smoothed)
    }
}

impl Core {
    /// Tells each room who started or stopped speaking since the last interval.
    pub(crate) fn tell_speakers(&mut self, now: std::time::Instant) {
        let names: Vec<String> = self.rooms.keys().cloned().collect();
        for name in names {
            let Some(room) = self.rooms.get(&name) else {
                continue;
            };
            let members = room.members.clone();
            let mut speaking: BTreeMap<String, f32> = BTreeMap::new();
            for conn in &members {
                let Some(p) = self.participants.get_mut(conn) else {
                    continue;
                };
                let hidden = p.grant.hidden;
                let level = p
                    .published
                    .iter_mut()
                    .filter(|t| t.kind == MediaKind::Audio)
                    .filter_map(|t| t.voice.take().filter(|_| !t.info.muted))
                    .reduce(f32::max);
                if let Some(level) = level.filter(|_| !hidden) {
                    speaking.insert(p.sid.clone(), level);
                }
            }
            let Some(room) = self.rooms.get_mut(&name) else {
                continue;
            };
            let stopped = room
                .speakers
                .keys()
                .filter(|sid| !speaking.contains_key(*sid))
                .map(|sid| proto::SpeakerInfo {
                    sid: sid.clone(),
                    level: 0.0,
                    active: false,
                });
            let started = speaking
                .iter()
                .filter(|(sid, _)| !room.speakers.contains_key(*sid))
                .map(|(sid, level)| proto::SpeakerInfo {
                    sid: sid.clone(),
                    level: *level,
                    active: true,
                });
            let changes: Vec<proto::SpeakerInfo> = stopped.chain(started).collect();
            let current: Vec<proto::SpeakerInfo> = speaking
                .iter()
                .map(|(sid, level)| proto::SpeakerInfo {
                    sid: sid.clone(),
                    level: *level,
                    active: true,
                })
                .collect();
            room.speakers = speaking;
            for conn in members {
                let Some(p) = self.participants.get_mut(&conn) else {
                    continue;
                };
                // Someone whose client just settled hears who speaks now. Not before:
                // livekit-client drops speaker events that come while it connects
                // (`Participant::media_settled`).
                let speakers = if p.told_speakers {
                    changes.clone()
                } else if p.media_settled(now) {
                    p.told_speakers = true;
                    current.clone()
                } else {
                    continue;
                };
                if !speakers.is_empty() {
                    self.send(
                        conn,
                        proto::signal_response::Message::SpeakersChanged(proto::SpeakersChanged {
                            speakers,
                        }),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VoiceMeter;

    fn interval(meter: &mut VoiceMeter, loud: u32, quiet: u32, dbov: i8) -> Option<f32> {
        for _ in 0..loud {
            meter.record(dbov);
        }
        for _ in 0..quiet {
            meter.record(-127);
        }
        meter.take()
    }

    #[test]
    fn a_track_speaks_when_enough_of_an_interval_is_loud() {
        let mut meter = VoiceMeter::default();
        assert!(interval(&mut meter, 10, 10, -20).is_some());
        assert!(
            interval(&mut meter, 2, 18, -20).is_none(),
            "a cough is not speech"
        );
        assert!(
            interval(&mut meter, 0, 0, -20).is_none(),
            "no packets, no speech"
        );
    }

    #[test]
    fn quiet_sound_is_not_speech() {
        let mut meter = VoiceMeter::default();
        assert!(interval(&mut meter, 20, 0, -50).is_none());
    }

    #[test]
    fn the_level_is_a_smoothed_linear_amplitude() {
        let mut meter = VoiceMeter::default();
        let first = interval(&mut meter, 20, 0, 0).unwrap_or_default();
        assert!(
            (first - 0.5).abs() < 1e-6,
            "full scale, halved by the silence before: {first}"
        );
        let second = interval(&mut meter, 20, 0, 0).unwrap_or_default();
        assert!((second - 0.75).abs() < 1e-6, "{second}");
        let louder_first = interval(&mut VoiceMeter::default(), 20, 0, -6).unwrap_or_default();
        assert!(louder_first < first && louder_first > 0.2, "{louder_first}");
    }
}
