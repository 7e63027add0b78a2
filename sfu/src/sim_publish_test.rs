//! The simulated browsers' publishing: announcing tracks and negotiating their send
//! sections, together (like livekit-client) or sections first (like Bedside's client
//! for a patient in the waiting room).

use super::*;

impl Sim {
    /// Announces and negotiates a microphone and a (simulcast) camera track.
    pub fn publish(&mut self, index: usize) {
        self.announce(index);
        self.prepare_sections(index);
    }
    /// Negotiates the microphone's and camera's send sections without announcing the
    /// tracks (as Bedside's client does for a patient in the waiting room). Sections
    /// negotiated before are kept, as a browser keeps a track's sender.
    pub fn prepare_sections(&mut self, index: usize) {
        let client = &mut self.clients[index];
        if client.audio_mid.is_none() {
            client
                .queued
                .push((MediaKind::Audio, Direction::SendOnly, Some("cid-audio")));
        }
        if client.video_mid.is_none() {
            client
                .queued
                .push((MediaKind::Video, Direction::SendOnly, Some("cid-video")));
        }
        self.offer(index);
    }
    /// Starts sending on the negotiated sections, announced or not (a client that sends
    /// without announcing misbehaves).
    pub fn start_sending(&mut self, index: usize) {
        self.clients[index].publishing = true;
    }
    /// Announces the microphone and camera tracks (`AddTrackRequest`) and starts sending.
    pub fn announce(&mut self, index: usize) {
        for (cid, kind, source) in [
            (
                "cid-audio",
                proto::TrackType::Audio,
                proto::TrackSource::Microphone,
            ),
            (
                "cid-video",
                proto::TrackType::Video,
                proto::TrackSource::Camera,
            ),
        ] {
            let layers = if kind == proto::TrackType::Video {
                LAYERS
                    .iter()
                    .enumerate()
                    .map(|(q, (rid, size))| proto::VideoLayer {
                        quality: q as i32,
                        rid: rid.to_string(),
                        // What the frames of the layer amount to at one per 35 ms,
                        // or more, as real encoders announce their ceilings.
                        bitrate: (size * 8 * 1000 / 35) as u32
                            * self.clients[index].announce_factor,
                        width: 320 << q,
                        height: 180 << q,
                        ..Default::default()
                    })
                    .collect()
            } else {
                vec![]
            };
            let request = proto::AddTrackRequest {
                cid: cid.into(),
                r#type: kind as i32,
                source: source as i32,
                layers,
                ..Default::default()
            };
            self.signal(index, signal_request::Message::AddTrack(request));
        }
        self.start_sending(index);
    }
    /// The room service admits `identity` in room "visit" (publish, subscribe, data).
    pub fn admit(&mut self, identity: &str) {
        let admit = crate::room_service::RoomServiceCall::UpdateParticipant(
            proto::UpdateParticipantRequest {
                room: "visit".into(),
                identity: identity.into(),
                permission: Some(proto::ParticipantPermission {
                    can_publish: true,
                    can_subscribe: true,
                    can_publish_data: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        assert!(self.core.room_service(self.now, 0, admit).is_ok());
    }
}
