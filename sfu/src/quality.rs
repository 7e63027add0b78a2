//! Connection quality: what the SFU sees of each participant's links, graded as LiveKit's
//! `ConnectionQualityUpdate` grades it (excellent, good, poor, lost), and told to the
//! room. A clinician sees that the patient's connection is weak before the patient says
//! "you're breaking up"; LiveKit's clients raise `ConnectionQualityChanged` from it.
//!
//! **What is measured.** str0m's `PeerStats` every two seconds, per peer connection:
//! the loss of what the participant sends us (TWCC sequence numbers seen against those
//! expected), the loss of what we send it (its TWCC feedback, over the last second) and
//! the TWCC round trip; and the interarrival jitter of its audio (the receiver reports
//! we send it). The worse of the two directions counts: a patient whose uplink drops
//! packets is as hard to follow as one whose downlink does.
//!
//! **The grade.** The E-model's transmission rating (ITU-T G.107), reduced as VoIP
//! monitors reduce it: an effective latency of half the round trip, twice the jitter
//! and 10 ms of codec delay; R = 93.2, less a latency term (1/40 per ms up to 160 ms,
//! 1/10 per ms past 120 ms beyond), less 2.5 per percent lost; and the mean opinion
//! score from R. 4.1 and above is excellent (under about 4% lost on a short path),
//! 3.6 and above good (under about 9%), below that poor. LiveKit grades from a similar
//! score; its own tests call 12% Opus loss poor, as this does.
//!
//! What the SFU decides itself counts too: video it paused for the participant's
//! downlink makes the connection poor, video it holds below the layers wanted makes it
//! at most good. A participant whose ICE or signaling connection is lost is `Lost` at
//! once.
//!
//! **Steadiness.** A grade goes down at the first evaluation that shows it, and up only
//! after [`RISE_AFTER`] evaluations in a row that clear the better grade's line by
//! [`RISE_MARGIN`]: a link at a boundary would otherwise flip the indicator every two
//! seconds (a second's loss count at 4% varies by about a point either way), and an
//! indicator that blinks is read as noise.
//!
//! **Who is told.** Each participant hears its own grade and that of every participant
//! it can see (hidden ones, a patient in the waiting room, stay hidden), all of them two
//! seconds after its media connected and then whenever a grade it was told changes
//! (checked on the core's one-second housekeeping). Not sooner: livekit-client drops a
//! quality event while its room is still connecting and keeps the value, so a repeat
//! would change nothing; a browser test lost one that way one run in five.
//!
//! A participant back from a lost connection is shown as its next evaluation grades it,
//! without waiting for a run of them: the room should not read "dropped" for seconds
//! after they returned.

use std::collections::BTreeMap;
use std::time::Duration;

use livekit_protocol as proto;
use proto::ConnectionQuality;

use super::core::{ConnId, Core};
use super::participant::Participant;

/// Evaluations in a row at least as good as a better grade before it is shown.
pub(crate) const RISE_AFTER: u8 = 3;
/// How far past a better grade's line the score must be for the grade to rise.
pub(crate) const RISE_MARGIN: f32 = 0.1;
/// Mean opinion score from which a link is excellent.
pub(crate) const EXCELLENT_FROM: f32 = 4.1;
/// Mean opinion score from which a link is good.
pub(crate) const GOOD_FROM: f32 = 3.6;
/// Opus's RTP clock: jitter in receiver reports is counted in its ticks.
const AUDIO_CLOCK_HZ: u32 = 48_000;

/// What one evaluation sees of a participant's links.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LinkConditions {
    /// Fraction of what it sends the SFU that was lost.
    pub(crate) loss_up: Option<f32>,
    /// Fraction of what the SFU sends it that was lost.
    pub(crate) loss_down: Option<f32>,
    /// Round trip between it and the SFU.
    pub(crate) rtt: Option<Duration>,
    /// Interarrival jitter of its audio.
    pub(crate) jitter: Option<Duration>,
    /// The SFU paused video its downlink cannot carry.
    pub(crate) video_paused: bool,
    /// The SFU holds video below the layers it wants, for its downlink.
    pub(crate) video_held_low: bool,
}

impl LinkConditions {
    /// The E-model's mean opinion score for these conditions (1 to 4.5).
    pub(crate) fn mean_opinion_score(&self) -> f32 {
        let loss = self
            .loss_up
            .into_iter()
            .chain(self.loss_down)
            .fold(0.0f32, f32::max)
            .clamp(0.0, 1.0);
        let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f32() * 1000.0);
        let latency = ms(self.rtt) / 2.0 + 2.0 * ms(self.jitter) + 10.0;
        let latency_term = if latency < 160.0 {
            latency / 40.0
        } else {
            (latency - 120.0) / 10.0
        };
        let r = (93.2 - latency_term - 2.5 * loss * 100.0).clamp(0.0, 100.0);
        1.0 + 0.035 * r + 0.000_007 * r * (r - 60.0) * (100.0 - r)
    }

    /// The grade and its score.
    pub(crate) fn grade(&self) -> (ConnectionQuality, f32) {
        self.grade_with_margin(0.0)
    }

    /// The grade with every line raised by `margin`, and the score.
    fn grade_with_margin(&self, margin: f32) -> (ConnectionQuality, f32) {
        let score = self.mean_opinion_score();
        let mut grade = if score >= EXCELLENT_FROM + margin {
            ConnectionQuality::Excellent
        } else if score >= GOOD_FROM + margin {
            ConnectionQuality::Good
        } else {
            ConnectionQuality::Poor
        };
        if self.video_paused {
            grade = ConnectionQuality::Poor;
        } else if self.video_held_low && grade == ConnectionQuality::Excellent {
            grade = ConnectionQuality::Good;
        }
        (grade, score)
    }
}

/// How good a grade is, for comparing and for metrics: 0 lost, 1 poor, 2 good,
/// 3 excellent.
pub(crate) fn rank(quality: ConnectionQuality) -> u8 {
    match quality {
        ConnectionQuality::Lost => 0,
        ConnectionQuality::Poor => 1,
        ConnectionQuality::Good => 2,
        ConnectionQuality::Excellent => 3,
    }
}

/// One participant's connection quality, and what it was told of everyone's.
#[derive(Debug, Clone)]
pub(crate) struct QualityTracker {
    /// The grade shown.
    pub(crate) shown: ConnectionQuality,
    /// Its score (the last evaluation's).
    pub(crate) score: f32,
    /// A better grade seen, and in how many evaluations in a row.
    rising: Option<(ConnectionQuality, u8)>,
    /// The media connection or the signaling one is lost.
    lost: bool,
    /// The last `PeerStats` of the publishing side: loss of what it sends us, and the
    /// round trip (dual mode: the down side's stats carry the rest).
    pub(crate) up_sample: Option<(Option<f32>, Option<Duration>)>,
    /// Its audio's jitter, from our receiver reports.
    pub(crate) audio_jitter: Option<Duration>,
    /// Grades this participant was told, by participant sid.
    told: BTreeMap<String, ConnectionQuality>,
}

impl Default for QualityTracker {
    /// Excellent until measured (as LiveKit starts).
    fn default() -> Self {
        Self {
            shown: ConnectionQuality::Excellent,
            score: 4.5,
            rising: None,
            lost: false,
            up_sample: None,
            audio_jitter: None,
            told: BTreeMap::new(),
        }
    }
}

impl QualityTracker {
    /// Takes one evaluation: a worse grade is shown at once, a better one after
    /// [`RISE_AFTER`] in a row past its line by [`RISE_MARGIN`].
    pub(crate) fn observe(&mut self, conditions: &LinkConditions) {
        let (fall, score) = conditions.grade();
        let (grade, _) = conditions.grade_with_margin(RISE_MARGIN);
        self.score = score;
        if self.lost {
            return;
        }
        // Back from a loss, the link is shown as it is at once: "dropped, waiting for
        // them" must not outlast their return.
        if rank(fall) < rank(self.shown) || self.shown == ConnectionQuality::Lost {
            self.shown = fall;
            self.rising = None;
            return;
        }
        if rank(grade) <= rank(self.shown) {
            self.rising = None;
            return;
        }
        let (candidate, count) = match self.rising {
            // Rising to the lower of the grades seen in the run.
            Some((seen, count)) => (
                if rank(seen) < rank(grade) {
                    seen
                } else {
                    grade
                },
                count + 1,
            ),
            None => (grade, 1),
        };
        if count >= RISE_AFTER {
            self.shown = candidate;
            self.rising = None;
        } else {
            self.rising = Some((candidate, count));
        }
    }

    /// The connection was lost (shown at once) or is back (shown as the next
    /// evaluation grades it).
    pub(crate) fn set_lost(&mut self, lost: bool) {
        if lost && !self.lost {
            self.shown = ConnectionQuality::Lost;
            self.rising = None;
        }
        self.lost = lost;
    }

    /// Records an audio receiver report's jitter (in Opus clock ticks).
    pub(crate) fn audio_jitter_ticks(&mut self, ticks: u32) {
        let micros = u64::from(ticks) * 1_000_000 / u64::from(AUDIO_CLOCK_HZ);
        self.audio_jitter = Some(Duration::from_micros(micros));
    }
}

impl Participant {
    /// What the SFU does to its video for its downlink (paused, held low).
    fn video_held(&self) -> (bool, bool) {
        let video = || {
            self.down
                .iter()
                .filter(|d| d.kind == str0m::media::MediaKind::Video)
        };
        (
            video().any(|d| d.paused),
            video().any(|d| d.held_low && !d.paused),
        )
    }

    /// Grades its links from its down side's `PeerStats` (`loss_down`, `rtt`), the
    /// publishing side's last sample, and what the SFU does to its video.
    pub(crate) fn grade_links(
        &mut self,
        ingress_loss: Option<f32>,
        egress_loss: Option<f32>,
        rtt: Option<Duration>,
    ) {
        let (up_loss, up_rtt) = match self.mode {
            super::core::PeerMode::Single => (ingress_loss, rtt),
            super::core::PeerMode::Dual => self.quality.up_sample.unwrap_or_default(),
        };
        let (video_paused, video_held_low) = self.video_held();
        let conditions = LinkConditions {
            loss_up: up_loss,
            loss_down: egress_loss,
            rtt: rtt.max(up_rtt),
            jitter: self.quality.audio_jitter,
            video_paused,
            video_held_low,
        };
        self.quality.observe(&conditions);
        tracing::debug!(
            sid = %self.sid,
            shown = ?self.quality.shown,
            score = self.quality.score,
            loss_up = ?conditions.loss_up,
            loss_down = ?conditions.loss_down,
            rtt_ms = conditions.rtt.map(|d| d.as_millis()),
            "sfu grades a participant's connection"
        );
    }

    /// Its media or signaling connection is lost now.
    pub(crate) fn links_lost(&self) -> bool {
        self.signal_lost_at.is_some()
            || self.publisher.disconnected_at.is_some()
            || self
                .subscriber
                .as_ref()
                .is_some_and(|s| s.disconnected_at.is_some())
    }
}

impl Core {
    /// Tells every participant the grades it can see that changed since it was last
    /// told (all of them, the first time). Run on the housekeeping tick.
    pub(crate) fn tell_connection_quality(&mut self, now: std::time::Instant) {
        for p in self.participants.values_mut() {
            let lost = p.links_lost();
            p.quality.set_lost(lost);
        }
        let rooms: Vec<Vec<ConnId>> = self.rooms.values().map(|r| r.members.clone()).collect();
        for members in rooms {
            let grades: Vec<Grade> = members
                .iter()
                .filter_map(|c| self.participants.get(c).map(|p| (*c, p)))
                .map(|(conn, p)| Grade {
                    conn,
                    sid: p.sid.clone(),
                    hidden: p.grant.hidden,
                    quality: p.quality.shown,
                    score: p.quality.score,
                })
                .collect();
            for &listener in &members {
                // Not before its client has settled (`Participant::media_settled`).
                let Some(p) = self
                    .participants
                    .get_mut(&listener)
                    .filter(|p| p.media_settled(now))
                else {
                    continue;
                };
                let updates = news_for(&mut p.quality, listener, &grades);
                if !updates.is_empty() {
                    self.send(
                        listener,
                        proto::signal_response::Message::ConnectionQuality(
                            proto::ConnectionQualityUpdate { updates },
                        ),
                    );
                }
            }
        }
    }
}

/// One participant's grade, as the room's listeners are told it.
struct Grade {
    conn: ConnId,
    sid: String,
    hidden: bool,
    quality: ConnectionQuality,
    score: f32,
}

/// What `listener` has not been told yet of `grades` (and it is marked told).
fn news_for(
    tracker: &mut QualityTracker,
    listener: ConnId,
    grades: &[Grade],
) -> Vec<proto::ConnectionQualityInfo> {
    let mut updates = Vec::new();
    for g in grades {
        if g.hidden && g.conn != listener {
            continue;
        }
        if tracker.told.get(&g.sid) == Some(&g.quality) {
            continue;
        }
        tracker.told.insert(g.sid.clone(), g.quality);
        updates.push(proto::ConnectionQualityInfo {
            participant_sid: g.sid.clone(),
            quality: g.quality as i32,
            score: g.score,
        });
    }
    tracker
        .told
        .retain(|sid, _| grades.iter().any(|g| &g.sid == sid));
    updates
}

#[cfg(test)]
#[path = "quality_test.rs"]
mod tests;
