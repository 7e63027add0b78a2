//! Data channels: `DataPacket`s from a participant, stamped with their sender, held to
//! the sender's rate, and delivered to the participants they are addressed to.

use std::collections::HashMap;
use std::time::Instant;

use livekit_protocol as proto;
use prost::Message;
use str0m::channel::ChannelData;

use super::core::{ConnId, Core};
use super::negotiate::{LOSSY, RELIABLE};
use super::participant::Side;

impl Core {
    // The user packet's sender and destination fields are deprecated in favour of the
    // packet-level ones, but older clients still read and write them.
    #[allow(deprecated)]
    /// A `DataPacket` from `conn`: stamped with its sender and delivered to the other
    /// participants it is addressed to, on the channel of the same kind.
    pub(crate) fn forward_data(&mut self, now: Instant, conn: ConnId, data: ChannelData) {
        let Some(p) = self.participants.get_mut(&conn) else {
            return;
        };
        // Everyone in the room pays for each packet: a sender gets a budget of packets
        // and bytes, and what exceeds it is dropped (as a congested lossy channel would).
        if !p.data_packets.take(1.0, now) || !p.data_bytes.take(data.data.len() as f64, now) {
            return tracing::debug!(conn, "sfu drops data over the sender's rate");
        }
        let p = &*p;
        let label = p
            .channels
            .by_id
            .get(&(Side::Publisher, data.id))
            .cloned()
            .unwrap_or_default();
        if label != RELIABLE && label != LOSSY {
            return; // `_data_track` and unknown channels carry no DataPackets.
        }
        if !p.grant.can_publish_data {
            return tracing::debug!(conn, "sfu drops data: not granted");
        }
        let Ok(mut packet) = proto::DataPacket::decode(&data.data[..]) else {
            return tracing::debug!(conn, "sfu drops undecodable data packet");
        };
        // Transcriptions are the agents' (LiveKit reserves them); nobody here is one.
        if matches!(
            packet.value,
            Some(proto::data_packet::Value::Transcription(_))
        ) {
            return tracing::debug!(conn, "sfu drops a transcription from a participant");
        }
        // A hidden participant (an observer) stays hidden in what it sends too.
        let (identity, sid) = if p.grant.hidden {
            (String::new(), String::new())
        } else {
            (p.grant.identity.clone(), p.sid.clone())
        };
        packet.participant_identity = identity.clone();
        packet.participant_sid = sid.clone();
        let mut destinations = packet.destination_identities.clone();
        if let Some(proto::data_packet::Value::User(user)) = packet.value.as_mut() {
            user.participant_sid = sid;
            user.participant_identity = identity;
            destinations.extend(user.destination_identities.iter().cloned());
        }
        let lossy = label == LOSSY;
        let others = self.room_peers(conn);
        self.deliver_data(&others, &packet, lossy, &destinations);
    }

    /// Writes a data packet to each of `recipients` addressed by `destinations` (all when
    /// empty), on their channel of the packet's kind.
    pub(crate) fn deliver_data(
        &mut self,
        recipients: &[ConnId],
        packet: &proto::DataPacket,
        lossy: bool,
        destinations: &[String],
    ) {
        let bytes = packet.encode_to_vec();
        let mut written = HashMap::new();
        for other in recipients {
            let Some(q) = self.participants.get_mut(other) else {
                continue;
            };
            if !destinations.is_empty() && !destinations.contains(&q.grant.identity) {
                continue;
            }
            let side = q.down_side();
            let preferred = if lossy { LOSSY } else { RELIABLE };
            let Some(id) = q
                .channels
                .find(side, preferred)
                .or_else(|| q.channels.find(side, RELIABLE))
            else {
                continue;
            };
            let Some(peer) = q.peer_mut(side) else {
                continue;
            };
            if let Some(mut channel) = peer.rtc.channel(id)
                && let Err(error) = channel.write(true, &bytes)
            {
                tracing::debug!(%error, "sfu data write failed");
            }
            written.insert(*other, side);
        }
        self.dirty.extend(written);
    }
}
