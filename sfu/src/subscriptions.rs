//! Subscriptions: which participant receives which track (auto-subscribe, explicit
//! `UpdateSubscription`, permissions) and what it asked of each (`UpdateTrackSettings`).

use std::time::Instant;

use livekit_protocol as proto;

use super::core::{ConnId, Core, PeerMode};
use super::participant::{DownState, DownTrack};

impl Core {
    pub(crate) fn update_subscription(
        &mut self,
        now: Instant,
        conn: ConnId,
        update: proto::UpdateSubscription,
    ) {
        let sids: Vec<String> = update
            .track_sids
            .into_iter()
            .chain(
                update
                    .participant_tracks
                    .into_iter()
                    .flat_map(|pt| pt.track_sids),
            )
            .collect();
        for sid in sids {
            if update.subscribe {
                if let Some(p) = self.participants.get_mut(&conn) {
                    p.unsubscribed.remove(&sid);
                }
                let publisher = self.room_peers(conn).into_iter().find(|c| {
                    self.participants
                        .get(c)
                        .is_some_and(|p| p.published.iter().any(|t| t.info.sid == sid))
                });
                if let Some(publisher) = publisher {
                    self.subscribe(conn, publisher, &sid, true);
                }
            } else {
                // Remembered only for tracks that exist, so made-up sids cannot grow it.
                let published = self.room_peers(conn).into_iter().any(|c| {
                    self.participants
                        .get(&c)
                        .is_some_and(|p| p.published.iter().any(|t| t.info.sid == sid))
                });
                if published && let Some(p) = self.participants.get_mut(&conn) {
                    p.unsubscribed.insert(sid.clone());
                }
                self.unsubscribe(now, conn, |d| d.track_sid == sid);
            }
        }
    }

    pub(crate) fn track_settings(
        &mut self,
        now: Instant,
        conn: ConnId,
        settings: proto::UpdateTrackSettings,
    ) {
        // As LiveKit does: a visible size, when given, decides; `quality` only otherwise.
        let by_quality = settings.width == 0 && settings.height == 0;
        let max_rank = match proto::VideoQuality::try_from(settings.quality) {
            Ok(proto::VideoQuality::Low) if by_quality => Some(0),
            Ok(proto::VideoQuality::Medium) if by_quality => Some(1),
            _ => None,
        };
        let mut resumed = Vec::new();
        if let Some(p) = self.participants.get_mut(&conn) {
            for d in p.down.iter_mut() {
                if settings.track_sids.contains(&d.track_sid) {
                    if d.disabled && !settings.disabled {
                        d.needs_keyframe = true;
                        resumed.push((d.publisher, d.track_sid.clone()));
                    }
                    d.disabled = settings.disabled;
                    d.max_fps = settings.fps;
                    d.wanted = super::layers::Wanted {
                        disabled: settings.disabled,
                        width: settings.width,
                        max_rank,
                    };
                }
            }
        }
        self.reselect_layers(now, conn);
        for (publisher, sid) in resumed {
            self.request_track_keyframes(now, publisher, &sid);
        }
    }

    /// Adds a down track of `publisher`'s `track_sid` for `conn`, when allowed.
    /// `explicit` subscriptions ignore the participant's auto-subscribe setting.
    pub(crate) fn subscribe(
        &mut self,
        conn: ConnId,
        publisher: ConnId,
        track_sid: &str,
        explicit: bool,
    ) {
        let Some((publisher_sid, kind)) = self.participants.get(&publisher).and_then(|p| {
            let track = p.published.iter().find(|t| t.info.sid == track_sid)?;
            Some((p.sid.clone(), track.kind))
        }) else {
            return;
        };
        let allowed = match (
            self.participants.get(&publisher),
            self.participants.get(&conn),
        ) {
            (Some(publisher), Some(subscriber)) => publisher.allows(subscriber, track_sid),
            _ => return,
        };
        if !allowed {
            if explicit {
                self.tell_permission(conn, &publisher_sid, track_sid, false);
            }
            return;
        }
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let wanted = p.grant.can_subscribe
            && (explicit || (p.auto_subscribe && !p.unsubscribed.contains(track_sid)))
            && !p.down.iter().any(|d| d.track_sid == track_sid);
        if !wanted {
            return;
        }
        p.down.push(DownTrack {
            track_sid: track_sid.to_string(),
            publisher,
            publisher_sid,
            kind,
            state: DownState::Wanted,
            layer: None,
            needs_keyframe: true,
            disabled: false,
            wanted: Default::default(),
            target: 2,
            paused: false,
            mapping: None,
            payload_types: Vec::new(),
            upgrades: Default::default(),
            held_low: false,
            temporal_cap: Default::default(),
            budget_cap: None,
            max_fps: 0,
            gaps: Default::default(),
            first_sent: None,
        });
        self.needs_negotiation.insert(conn);
    }

    /// `SubscriptionPermission` from `conn`: who may receive its tracks. Subscribers who
    /// lose a track are unsubscribed and told (`SubscriptionPermissionUpdate`); those who
    /// gain one are subscribed as auto-subscribe would have, and told too.
    pub(crate) fn subscription_permission(
        &mut self,
        now: Instant,
        conn: ConnId,
        permission: proto::SubscriptionPermission,
    ) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        p.subscription_permission = Some(permission);
        let publisher_sid = p.sid.clone();
        let sids: Vec<String> = p.published.iter().map(|t| t.info.sid.clone()).collect();
        for other in self.room_peers(conn) {
            for sid in &sids {
                let (allowed, had) =
                    match (self.participants.get(&conn), self.participants.get(&other)) {
                        (Some(publisher), Some(subscriber)) => (
                            publisher.allows(subscriber, sid),
                            subscriber.down.iter().any(|d| &d.track_sid == sid),
                        ),
                        _ => continue,
                    };
                if had && !allowed {
                    self.unsubscribe(now, other, |d| &d.track_sid == sid);
                    self.tell_permission(other, &publisher_sid, sid, false);
                } else if !had && allowed {
                    self.subscribe(other, conn, sid, false);
                    let now_has = self
                        .participants
                        .get(&other)
                        .is_some_and(|s| s.down.iter().any(|d| &d.track_sid == sid));
                    if now_has {
                        self.tell_permission(other, &publisher_sid, sid, true);
                    }
                }
            }
        }
    }

    fn tell_permission(
        &mut self,
        conn: ConnId,
        publisher_sid: &str,
        track_sid: &str,
        allowed: bool,
    ) {
        let update = proto::SubscriptionPermissionUpdate {
            participant_sid: publisher_sid.to_owned(),
            track_sid: track_sid.to_owned(),
            allowed,
        };
        self.send(
            conn,
            proto::signal_response::Message::SubscriptionPermissionUpdate(update),
        );
    }

    pub(crate) fn subscribe_to_existing(&mut self, conn: ConnId) {
        for other in self.room_peers(conn) {
            let sids: Vec<String> = self
                .participants
                .get(&other)
                .map(|p| p.published.iter().map(|t| t.info.sid.clone()).collect())
                .unwrap_or_default();
            for sid in sids {
                self.subscribe(conn, other, &sid, false);
            }
        }
    }

    /// Removes `conn`'s down tracks matching `which`; their sections are released.
    pub(crate) fn unsubscribe(
        &mut self,
        _now: Instant,
        conn: ConnId,
        which: impl Fn(&DownTrack) -> bool,
    ) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        let (gone, kept): (Vec<DownTrack>, Vec<DownTrack>) =
            p.down.drain(..).partition(|d| which(d));
        p.down = kept;
        if gone.is_empty() {
            return;
        }
        for d in gone {
            if let Some(mid) = d.mid() {
                match p.mode {
                    PeerMode::Dual => p.stopped_mids.push(mid),
                    PeerMode::Single => {
                        for section in p.send_sections.iter_mut().filter(|s| s.0 == mid) {
                            section.2 = None;
                        }
                        p.wants_client_offer = true;
                    }
                }
            }
        }
        self.needs_negotiation.insert(conn);
    }
}
