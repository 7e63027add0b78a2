//! Session resumption, LiveKit's way: when a signaling socket drops without a `leave`,
//! the participant stays in the room (media keeps flowing) for [`RESUME_GRACE`]. A
//! client that reconnects in time with `reconnect=1` and its participant sid gets a
//! `ReconnectResponse` instead of a join: nobody sees it leave, its tracks and
//! subscriptions carry on, and ICE restarts on its connections. After the grace period,
//! or for an unknown sid, the client is told to rejoin from scratch (`leave` with
//! action `RECONNECT`).

use std::time::{Duration, Instant};

use livekit_protocol as proto;
use proto::participant_info::State;
use proto::{DisconnectReason, signal_response};

use super::core::{ConnId, Core, CoreOutput, PeerMode};
use super::participant::DownState;

/// How long a participant whose signaling dropped may come back.
pub(crate) const RESUME_GRACE: Duration = Duration::from_secs(15);

impl Core {
    /// The signaling socket of `conn` closed without a `leave`.
    pub(crate) fn signal_lost(&mut self, now: Instant, conn: ConnId) {
        if let Some(p) = self.participants.get_mut(&conn) {
            tracing::info!(conn, participant_sid = %p.sid, "sfu signaling lost; awaiting resume");
            p.signal_lost_at.get_or_insert(now);
        }
    }

    /// Handles a join with `reconnect` set: resumes the session it names, or tells the
    /// client to rejoin. Returns false when the request is not a resume at all.
    pub(crate) fn try_resume(
        &mut self,
        conn: ConnId,
        room: &str,
        identity: &str,
        request: &proto::JoinRequest,
    ) -> bool {
        if !request.reconnect {
            return false;
        }
        let old = self.rooms.get(room).and_then(|r| {
            r.members.iter().copied().find(|c| {
                self.participants.get(c).is_some_and(|p| {
                    p.sid == request.participant_sid && p.grant.identity == identity
                })
            })
        });
        let Some(old) = old else {
            tracing::info!(
                conn,
                "sfu cannot resume an unknown session; client must rejoin"
            );
            let rejoin = proto::leave_request::Action::Reconnect;
            self.refuse(conn, DisconnectReason::StateMismatch, rejoin);
            return true;
        };
        self.rebind(old, conn);
        let Some(p) = self.participants.get_mut(&conn) else {
            return true;
        };
        tracing::info!(conn, participant_sid = %p.sid, "sfu session resumed");
        p.signal_lost_at = None;
        // An offer sent to the old socket may never have arrived: roll it back (str0m
        // applies nothing until an answer) and offer again, restarting ICE.
        if p.pending_offer.take().is_some() {
            for d in p.down.iter_mut() {
                if let DownState::Negotiating(_) = d.state {
                    d.state = DownState::Wanted;
                }
            }
        }
        p.restart_subscriber_ice = p.mode == PeerMode::Dual;
        let response = proto::ReconnectResponse {
            server_info: self.join_response(conn).and_then(|j| j.server_info),
            ..Default::default()
        };
        self.send(conn, signal_response::Message::Reconnect(response));
        // Catch the client up on whatever it missed while away.
        let others: Vec<proto::ParticipantInfo> = self
            .room_peers(conn)
            .iter()
            .filter_map(|c| self.participants.get(c))
            .filter(|p| !p.grant.hidden)
            .map(|p| p.info(State::Active))
            .collect();
        if !others.is_empty() {
            let update = proto::ParticipantUpdate {
                participants: others,
            };
            self.send(conn, signal_response::Message::Update(update));
        }
        self.needs_negotiation.insert(conn);
        true
    }

    /// Moves a participant from connection `old` to `new`, everywhere it is referenced.
    fn rebind(&mut self, old: ConnId, new: ConnId) {
        let Some(p) = self.participants.remove(&old) else {
            return;
        };
        if let Some(room) = self.rooms.get_mut(&p.room) {
            for member in room.members.iter_mut().filter(|m| **m == old) {
                *member = new;
            }
        }
        self.participants.insert(new, p);
        for other in self.participants.values_mut() {
            for d in other.down.iter_mut().filter(|d| d.publisher == old) {
                d.publisher = new;
            }
        }
        self.rebind_routes(old, new);
        if self.needs_negotiation.remove(&old) {
            self.needs_negotiation.insert(new);
        }
        let dirty: Vec<_> = self
            .dirty
            .iter()
            .filter(|(c, _)| *c == old)
            .copied()
            .collect();
        for (c, side) in dirty {
            self.dirty.remove(&(c, side));
            self.dirty.insert((new, side));
        }
        // The old socket is gone; make sure its session ends if it has not yet.
        self.outputs.push_back(CoreOutput::Close {
            conn: old,
            reason: DisconnectReason::SignalClose,
        });
    }
}
