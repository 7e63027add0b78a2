//! The simulated browsers' behaviour: joining, publishing, answering the SFU's signals
//! like livekit-client, producing media and reading what arrives.

use super::*;
use str0m::rtp::rtcp::Rtcp;

impl Sim {
    /// A client joins `room`; if `publish`, it then publishes microphone and camera.
    pub fn join(&mut self, identity: &str, room: &str, mode: PeerMode, publish: bool) -> usize {
        self.join_as(identity, room, mode, publish, true)
    }
    /// Like [`Sim::join`], with the token's `canPublish` chosen.
    pub fn join_as(
        &mut self,
        identity: &str,
        room: &str,
        mode: PeerMode,
        publish: bool,
        can_publish: bool,
    ) -> usize {
        let grant = test_grant(identity, room, can_publish);
        self.join_granted(grant, mode, publish)
    }
    /// A client on one connection that asks for open receive sections, as the Bedside
    /// client does.
    pub fn join_with_open_sections(&mut self, identity: &str, room: &str, publish: bool) -> usize {
        let grant = test_grant(identity, room, true);
        self.open_sections_next = true;
        self.join_granted(grant, PeerMode::Single, publish)
    }
    /// A patient in the waiting room: hidden, and neither publishing nor subscribing
    /// until a live permission update admits them.
    pub fn join_waiting(&mut self, identity: &str, room: &str, mode: PeerMode) -> usize {
        let grant = JoinGrant {
            can_publish: false,
            can_subscribe: false,
            hidden: true,
            ..test_grant(identity, room, false)
        };
        self.join_granted(grant, mode, false)
    }
    /// A client joins with `grant`; if `publish`, it then publishes.
    pub fn join_granted(&mut self, grant: JoinGrant, mode: PeerMode, publish: bool) -> usize {
        let identity = grant.identity.clone();
        let identity = identity.as_str();
        let index = self.clients.len();
        let conn = self.next_conn;
        self.next_conn += 1;
        let addr: SocketAddr = format!("10.1.0.{}:5000", index + 1)
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let sub_addr: SocketAddr = format!("10.1.0.{}:5001", index + 1)
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let mut publisher = self.new_rtc(addr);
        let subscriber = (mode == PeerMode::Dual).then(|| self.new_rtc(sub_addr));
        // Like livekit-client: data channels and (single mode) receive sections first.
        let mut api = publisher.sdp_api();
        api.add_channel_with_config(ChannelConfig {
            label: "_reliable".into(),
            ..Default::default()
        });
        let mut recv_mids = Vec::new();
        if mode == PeerMode::Single {
            recv_mids.push(api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None));
            recv_mids.push(api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None));
        }
        let (offer, pending) = api
            .apply()
            .unwrap_or_else(|| unreachable!("channels are a change"));
        let request = proto::JoinRequest {
            publisher_offer: Some(proto::SessionDescription {
                r#type: "offer".into(),
                sdp: offer.to_sdp_string(),
                id: 1,
                ..Default::default()
            }),
            ..Default::default()
        };
        self.clients.push(Client {
            conn,
            identity: identity.into(),
            publisher,
            subscriber,
            addr,
            sub_addr,
            pending: Some(pending),
            renegotiate: false,
            queued: Vec::new(),
            recv_mids,
            next_offer_id: 2,
            signals: Vec::new(),
            open_sections: std::mem::take(&mut self.open_sections_next),
            assigned: Vec::new(),
            received: Vec::new(),
            keyframe_requests: 0,
            data: Vec::new(),
            closed: false,
            audio_mid: None,
            video_mid: None,
            simulcast: true,
            announce_factor: 1,
            camera_off: false,
            publishing: false,
            force_keyframe: true,
            frames: 0,
            channels: HashMap::new(),
            sent_video_frames: 0,
            sent_audio_frames: 0,
            voice_dbov: None,
            feedback_statuses: (0, 0),
            feedback_arrival_times: (0, 0),
        });
        self.send_join(conn, grant, request, mode);
        if publish {
            self.publish(index);
        }
        index
    }
    /// Client `index`'s signaling socket drops (no `leave`).
    pub fn drop_signal(&mut self, index: usize) {
        let conn = self.clients[index].conn;
        let input = CoreInput::Disconnect {
            conn,
            resumable: true,
        };
        self.core.handle_input(self.now, input);
        self.pump();
    }
    /// Client `index` reconnects its signaling with `reconnect=1` and `sid`, as
    /// livekit-client does to resume.
    pub fn resume(&mut self, index: usize, room: &str, sid: &str) {
        let conn = self.next_conn;
        self.next_conn += 1;
        let client = &mut self.clients[index];
        client.conn = conn;
        client.closed = false;
        let grant = test_grant(&client.identity.clone(), room, true);
        let request = proto::JoinRequest {
            reconnect: true,
            participant_sid: sid.into(),
            ..Default::default()
        };
        let mode = if client.subscriber.is_some() {
            PeerMode::Dual
        } else {
            PeerMode::Single
        };
        self.send_join(conn, grant, request, mode);
    }
    fn send_join(
        &mut self,
        conn: ConnId,
        grant: JoinGrant,
        request: proto::JoinRequest,
        mode: PeerMode,
    ) {
        let open_sections = self
            .clients
            .iter()
            .any(|c| c.conn == conn && c.open_sections);
        let input = CoreInput::Join {
            conn,
            grant,
            request: Box::new(request),
            mode,
            open_sections,
            unix_ms: 1_700_000_000_000,
            ice_servers: Vec::new(),
        };
        self.core.handle_input(self.now, input);
        self.pump();
    }

    /// Sends a signal request from client `index`.
    pub fn signal(&mut self, index: usize, message: signal_request::Message) {
        let conn = self.clients[index].conn;
        self.core.handle_input(
            self.now,
            CoreInput::Signal {
                conn,
                message: Box::new(message),
            },
        );
        self.pump();
    }
    /// The client offers its publisher connection's pending changes (or all, again).
    pub(super) fn offer(&mut self, index: usize) {
        let client = &mut self.clients[index];
        if client.pending.is_some() {
            client.renegotiate = true;
            return;
        }
        // A browser offers its transceivers' own direction, whatever the last answer said.
        let mut api = client.publisher.sdp_api();
        for mid in &client.recv_mids {
            api.set_direction(*mid, Direction::RecvOnly);
        }
        // A browser's createOffer always renegotiates; str0m needs a change for an offer,
        // so an offer with nothing else to say adds a spare receive section.
        if client.queued.is_empty() && !api.has_changes() {
            client
                .queued
                .push((MediaKind::Audio, Direction::RecvOnly, None));
        }
        let simulcast = client.simulcast.then(|| {
            let mut s = Simulcast::new();
            for (rid, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        for (kind, dir, track) in client.queued.drain(..) {
            let stream = track.map(|_| "stream".to_string());
            let layers = (kind == MediaKind::Video && track.is_some())
                .then(|| simulcast.clone())
                .flatten();
            let mid = api.add_media(kind, dir, stream, track.map(str::to_string), layers);
            match track {
                Some("cid-audio") => client.audio_mid = Some(mid),
                Some("cid-video") => client.video_mid = Some(mid),
                _ => client.recv_mids.push(mid),
            }
        }
        let Some((offer, pending)) = api.apply() else {
            return;
        };
        client.pending = Some(pending);
        let id = client.next_offer_id;
        client.next_offer_id += 1;
        let description = proto::SessionDescription {
            r#type: "offer".into(),
            sdp: offer.to_sdp_string(),
            id,
            ..Default::default()
        };
        self.signal(index, signal_request::Message::Offer(description));
    }
    pub(super) fn client_signal(&mut self, index: usize, message: signal_response::Message) {
        self.clients[index].signals.push(message.clone());
        match message {
            signal_response::Message::Answer(answer) => {
                let client = &mut self.clients[index];
                let Some(pending) = client.pending.take() else {
                    return;
                };
                let sdp = SdpAnswer::from_sdp_string(&answer.sdp)
                    .unwrap_or_else(|e| panic!("answer: {e}"));
                client
                    .publisher
                    .sdp_api()
                    .accept_answer(pending, sdp)
                    .unwrap_or_else(|e| panic!("accept: {e}"));
                if std::mem::take(&mut client.renegotiate) {
                    self.offer(index);
                }
            }
            signal_response::Message::Offer(offer) => {
                let client = &mut self.clients[index];
                let sdp =
                    SdpOffer::from_sdp_string(&offer.sdp).unwrap_or_else(|e| panic!("offer: {e}"));
                let Some(sub) = client.subscriber.as_mut() else {
                    return;
                };
                let answer = sub
                    .sdp_api()
                    .accept_offer(sdp)
                    .unwrap_or_else(|e| panic!("accept offer: {e}"));
                let description = proto::SessionDescription {
                    r#type: "answer".into(),
                    sdp: answer.to_sdp_string(),
                    id: offer.id,
                    ..Default::default()
                };
                self.signal(index, signal_request::Message::Answer(description));
            }
            signal_response::Message::MediaSectionsRequirement(need) => {
                let client = &mut self.clients[index];
                for _ in 0..need.num_audios {
                    client
                        .queued
                        .push((MediaKind::Audio, Direction::RecvOnly, None));
                }
                for _ in 0..need.num_videos {
                    client
                        .queued
                        .push((MediaKind::Video, Direction::RecvOnly, None));
                }
                self.offer(index);
            }
            signal_response::Message::Leave(_) => self.clients[index].closed = true,
            _ => {}
        }
    }
    /// A publishing client's "encoder": 20 ms audio frames, 30 fps video on every layer.
    pub(super) fn produce_media(&mut self, index: usize) {
        let now = self.now;
        let client = &mut self.clients[index];
        if !client.publishing || client.closed || !client.publisher.is_connected() {
            return;
        }
        client.frames += 1;
        let tick = client.frames;
        let step_ms = STEP.as_millis() as u64;
        if (tick * step_ms).is_multiple_of(20)
            && let Some(mid) = client.audio_mid
            && let Some(pt) = client
                .publisher
                .writer(mid)
                .and_then(|w| w.payload_params().next().map(|p| p.pt()))
            && let Some(mut writer) = client.publisher.writer(mid)
        {
            if let Some(dbov) = client.voice_dbov {
                writer = writer.audio_level(dbov, dbov > -40);
            }
            let time = MediaTime::new(tick * step_ms * 48, Frequency::FORTY_EIGHT_KHZ);
            if writer.write(pt, now, time, vec![7u8; AUDIO_BYTES]).is_ok() {
                client.sent_audio_frames += 1;
            }
        }
        if (tick * step_ms).is_multiple_of(35)
            && !client.camera_off
            && let Some(mid) = client.video_mid
        {
            let keyframe =
                std::mem::take(&mut client.force_keyframe) || (tick * step_ms).is_multiple_of(3000);
            let time = MediaTime::new(tick * step_ms * 90, Frequency::NINETY_KHZ);
            let layers: Vec<(Option<Rid>, usize)> = if client.simulcast {
                LAYERS
                    .iter()
                    .map(|(r, n)| (Some(Rid::from(*r)), *n))
                    .collect()
            } else {
                vec![(None, LAYERS[1].1)]
            };
            let mut wrote = false;
            for (rid, len) in layers {
                let Some(pt) = client
                    .publisher
                    .writer(mid)
                    .and_then(|w| w.payload_params().next().map(|p| p.pt()))
                else {
                    continue;
                };
                let Some(mut writer) = client.publisher.writer(mid) else {
                    continue;
                };
                if let Some(rid) = rid {
                    writer = writer.rid(rid);
                }
                wrote |= writer
                    .write(pt, now, time, vp8_frame(keyframe, len))
                    .is_ok();
            }
            if wrote {
                client.sent_video_frames += 1;
            }
        }
    }
    pub(super) fn poll_client(&mut self, index: usize) {
        let now = self.now;
        let mut transmits = Vec::new();
        let client = &mut self.clients[index];
        if client.closed {
            return;
        }
        let mut received = Vec::new();
        let mut keyframe_requests = 0;
        let mut statuses = (0, 0);
        let mut arrival_times = (0u64, 0u64);
        let mut data = Vec::new();
        let mut opened = Vec::new();
        for (rtc, _) in client.rtcs() {
            let _ = rtc.handle_input(Input::Timeout(now));
            loop {
                match rtc.poll_output() {
                    Ok(Output::Transmit(t)) => {
                        transmits.push((t.source, t.destination, t.contents.to_vec()))
                    }
                    Ok(Output::Timeout(_)) | Err(_) => break,
                    Ok(Output::Event(event)) => match event {
                        Event::MediaData(d) => {
                            let keyframe = matches!(&d.codec_extra, str0m::format::CodecExtra::Vp8(e) if e.is_keyframe);
                            let picture_id = match &d.codec_extra {
                                str0m::format::CodecExtra::Vp8(e) => e.picture_id,
                                _ => None,
                            };
                            let kind = if d.params.spec().clock_rate == Frequency::NINETY_KHZ {
                                MediaKind::Video
                            } else {
                                MediaKind::Audio
                            };
                            received.push(Received {
                                contiguous: d.contiguous,
                                kind,
                                keyframe,
                                len: d.data.len(),
                                at: now,
                                rtp_time: d.time.numer(),
                                picture_id,
                                mid: d.mid,
                            });
                        }
                        Event::KeyframeRequest(_) => keyframe_requests += 1,
                        Event::RawPacket(raw) => {
                            if let str0m::rtp::RawPacket::RtcpRx(Rtcp::Twcc(twcc)) = *raw {
                                let mut times = std::collections::BTreeSet::new();
                                for (_, _, arrived) in twcc.into_iter(now, 0u64.into()) {
                                    if let Some(at) = arrived {
                                        statuses.0 += 1;
                                        times.insert(at);
                                    } else {
                                        statuses.1 += 1;
                                    }
                                }
                                arrival_times.0 += 1;
                                arrival_times.1 += times.len() as u64;
                            }
                        }
                        Event::ChannelOpen(id, label) => opened.push((label, id)),
                        Event::ChannelData(d) => {
                            if let Ok(packet) =
                                <proto::DataPacket as prost::Message>::decode(&d.data[..])
                            {
                                data.push(packet);
                            }
                        }
                        _ => {}
                    },
                }
            }
        }
        client.received.extend(received);
        client.keyframe_requests += keyframe_requests;
        client.feedback_statuses.0 += statuses.0;
        client.feedback_statuses.1 += statuses.1;
        client.feedback_arrival_times.0 += arrival_times.0;
        client.feedback_arrival_times.1 += arrival_times.1;
        if keyframe_requests > 0 {
            client.force_keyframe = true;
        }
        client.data.extend(data);
        client.channels.extend(opened);
        for (from, to, bytes) in transmits {
            self.send(from, to, bytes);
        }
    }
    /// Client `index` asks for a keyframe of the remote track it receives on `mid`.
    pub fn request_keyframe(&mut self, index: usize, mid: Mid) {
        let rtc = self.clients[index].receiving_rtc();
        if let Some(mut writer) = rtc.writer(mid) {
            let _ = writer.request_keyframe(None, KeyframeRequestKind::Pli);
        }
    }
    /// Client `index` sends a user data packet on its reliable channel.
    pub fn send_data(&mut self, index: usize, payload: &[u8], destinations: &[&str]) {
        let packet = proto::DataPacket {
            destination_identities: destinations.iter().map(|s| s.to_string()).collect(),
            value: Some(proto::data_packet::Value::User(proto::UserPacket {
                payload: payload.to_vec(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let bytes = prost::Message::encode_to_vec(&packet);
        let client = &mut self.clients[index];
        let Some(id) = client.channels.get("_reliable").copied() else {
            panic!("{} has no open _reliable channel", client.identity);
        };
        if let Some(mut channel) = client.publisher.channel(id) {
            let _ = channel.write(true, &bytes);
        }
    }
}

/// A token's grant for a simulated participant.
pub fn test_grant(identity: &str, room: &str, can_publish: bool) -> JoinGrant {
    JoinGrant {
        identity: identity.into(),
        name: identity.into(),
        room: room.into(),
        can_publish,
        can_publish_sources: vec![],
        can_subscribe: true,
        can_publish_data: true,
        hidden: false,
        metadata: String::new(),
        can_update_metadata: false,
    }
}
