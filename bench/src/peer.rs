//! One benchmark peer: a str0m `Rtc` that joins the SFU over `/rtc/v1` like
//! livekit-client, publishes Opus-like audio and three-layer 720p-like simulcast video,
//! and counts what it receives. Its signaling is `bedside-signal`'s [`Session`], the
//! same protocol core the browser client runs on.
//!
//! The peer works at the RTP level (str0m's RTP mode), so the load generator stays far
//! cheaper than the SFU it measures: each layer's packets are built once per frame from
//! a template (a VP8 payload descriptor with a PictureID, as Chromium sends, each
//! layer's ids starting elsewhere, as Chromium's do), and what comes back is read per
//! packet, with no frame assembly. Every packet carries its send time, so the delay is
//! measured per packet.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bedside_signal::{Event as Signal, Session, proto};
use futures_util::{SinkExt, StreamExt};
use proto::signal_response;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, Frequency, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio_tungstenite::tungstenite::Message;

use crate::batch_io::RecvSlots;
use crate::lean_receive::{LeanReceiver, count};
use crate::lean_send::{LeanSender, Packet};
use crate::payload::{stamped, vp8_packet};
use crate::report::PeerReport;

/// Simulcast layers: rid, width, bytes per frame at 30 fps (about 150 kbit/s,
/// 500 kbit/s and 1.5 Mbit/s, LiveKit's 720p presets).
pub const LAYERS: [(&str, u32, usize); 3] =
    [("q", 320, 625), ("h", 640, 2_000), ("f", 1280, 6_200)];
const VIDEO_INTERVAL: Duration = Duration::from_micros(33_333);
const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
const AUDIO_BYTES: usize = 100;
/// Datagrams taken off the socket per loop turn, at most.
const RECEIVE_BURST: usize = 64;
/// The signaling socket's read buffer (see `run`).
const SIGNAL_READ_BUFFER: usize = 8 * 1024;
/// Largest RTP payload the peer sends.
const PACKET_PAYLOAD: usize = 1_100;

/// Runs a peer until `stop`; counts between `measure_from` and `stop`.
pub async fn run(
    url: String,
    token: String,
    epoch: Instant,
    measure_from: Instant,
    stop: Instant,
) -> anyhow::Result<PeerReport> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    // A keyframe burst must not overflow the default buffer while this peer's task
    // waits its turn: a drop here would be counted against the SFU.
    socket2::SockRef::from(&socket).set_recv_buffer_size(1 << 20)?;
    let local = socket.local_addr()?;
    // The handshake's SRTP keys are captured for the send path beside str0m.
    let (mut rtc, keys) = bedside_media::keys::with_key_capture(|| {
        Rtc::builder()
            .set_crypto_provider(bedside_media::keys::capturing_provider())
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .set_stats_interval(Some(Duration::from_millis(500)))
            .set_rtp_mode(true)
            .build(Instant::now())
    });
    rtc.add_local_candidate(Candidate::host(local, "udp")?);

    // tungstenite zeroes its whole read buffer (128 KiB by default) on every read
    // attempt, and this loop polls the socket on every turn: that memset was a third of
    // the generator's time. Signaling frames are small.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(SIGNAL_READ_BUFFER);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
        format!("{url}/rtc/v1?access_token={token}"),
        Some(config),
        false,
    )
    .await
    .context("signaling connect")?;
    let clock = |at: Instant| at.duration_since(epoch).as_millis() as u64;
    let mut signal = Session::new(clock(Instant::now()), false);
    for (cid, kind, source) in [
        ("a", proto::TrackType::Audio, proto::TrackSource::Microphone),
        ("v", proto::TrackType::Video, proto::TrackSource::Camera),
    ] {
        let layers = if kind == proto::TrackType::Video {
            LAYERS
                .iter()
                .enumerate()
                .map(|(q, (rid, width, size))| proto::VideoLayer {
                    quality: q as i32,
                    rid: rid.to_string(),
                    width: *width,
                    height: width * 9 / 16,
                    bitrate: (*size * 8 * 30) as u32,
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
        signal.add_track(request);
    }
    flush(&mut ws, &mut signal).await?;
    // The join response and both track confirmations come before the first offer.
    let mut published = 0;
    while published < 2 {
        let frame = next(&mut ws).await?.context("refused by the SFU")?;
        signal.handle_frame(clock(Instant::now()), &frame)?;
        while let Some(event) = signal.poll_event() {
            match event {
                Signal::TrackPublished { .. } => published += 1,
                Signal::Leave(_) => bail!("refused by the SFU"),
                _ => {}
            }
        }
    }
    let mut api = rtc.sdp_api();
    let mut simulcast = Simulcast::new();
    for (rid, _, _) in LAYERS {
        simulcast.add_send_layer(SimulcastLayer::new(rid));
    }
    let audio_mid = api.add_media(
        MediaKind::Audio,
        Direction::SendOnly,
        Some("s".into()),
        Some("a".into()),
        None,
    );
    let video_mid = api.add_media(
        MediaKind::Video,
        Direction::SendOnly,
        Some("s".into()),
        Some("v".into()),
        Some(simulcast),
    );
    let mut recv_mids = vec![
        api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None),
        api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None),
    ];
    let (offer, pending) = api.apply().context("an offer")?;
    let mut pending: Option<SdpPendingOffer> = Some(pending);
    signal.send_offer(&offer.to_sdp_string());
    flush(&mut ws, &mut signal).await?;

    let mut report = PeerReport::default();
    let mut ingress: HashMap<(Mid, Option<Rid>), (u64, u64)> = HashMap::new();
    let mut ingress_at_start: Option<(u64, u64)> = None;
    let mut slots = RecvSlots::new(&socket)?;
    let mut next_video = Instant::now();
    let mut next_audio = Instant::now();
    let mut keyframe = true;
    let mut frame_no: u64 = 0;
    let mut audio_seq: u64 = 0;
    // Per layer: next sequence number and PictureID (each layer's start apart).
    let mut layer_seq = [0u64; 3];
    let mut layer_picture_id: [u16; 3] = [100, 9_000, 20_000];
    let mut want_offer = false;
    // The layers the SFU asks for (`SubscribedQualityUpdate`, LiveKit's dynacast), as
    // livekit-client turns its encodings on and off: a layer nobody watches is not sent.
    let mut layers_wanted = [true; 3];
    // Media leaves beside str0m once the handshake is done (`lean_send.rs`), to the
    // address the SFU's datagrams come from.
    let mut lean: Option<LeanSender> = None;
    let mut lean_rx: Option<LeanReceiver> = None;
    let mut remote: Option<SocketAddr> = None;
    let mut sent_at_start = 0;
    loop {
        let now = Instant::now();
        if now >= stop {
            signal.leave();
            let _ = flush(&mut ws, &mut signal).await;
            break;
        }
        if ingress_at_start.is_none() && now >= measure_from {
            ingress_at_start = Some(sum(&ingress, lean_rx.as_ref()));
            sent_at_start = lean.as_ref().map_or(0, |l| l.sent_bytes());
        }
        let measuring = ingress_at_start.is_some();
        if lean.is_none() && rtc.is_connected() {
            let mids = [audio_mid, video_mid];
            lean = keys
                .get()
                .and_then(|k| LeanSender::new(&rtc, &k, &mids, now));
            lean_rx = keys
                .get()
                .and_then(|k| LeanReceiver::new(&rtc, &k, &mids, local, now));
        }
        // Media: audio every 20 ms, video every 33 ms on all layers.
        if rtc.is_connected() && now >= next_audio {
            next_audio += AUDIO_INTERVAL;
            let time = (now.duration_since(epoch).as_micros() as u64 * 48 / 1_000) as u32;
            let pt = first_pt(&rtc, audio_mid);
            if let Some(pt) = pt
                && let Some(stream) = rtc.direct_api().stream_tx_by_mid(audio_mid, None)
            {
                let payload = stamped(vec![0xfc; AUDIO_BYTES], epoch, now);
                match (&mut lean, remote) {
                    (Some(lean), Some(_)) => lean.send(
                        now,
                        Packet {
                            mid: audio_mid,
                            rid: None,
                            ssrc: *stream.ssrc(),
                            clock_hz: 48_000,
                            pt: *pt,
                            index: audio_seq,
                            time,
                            marker: false,
                            payload: &Arc::from(payload),
                        },
                    ),
                    _ => stream.write_rtp(RtpWrite::new(pt, audio_seq.into(), time, now, payload)),
                }
                audio_seq += 1;
                report.audio_frames_sent += u64::from(measuring);
            }
        }
        if rtc.is_connected() && now >= next_video {
            next_video += VIDEO_INTERVAL;
            frame_no += 1;
            let key = std::mem::take(&mut keyframe) || frame_no.is_multiple_of(300);
            let time = (now.duration_since(epoch).as_micros() as u64 * 90 / 1_000) as u32;
            let pt = first_pt(&rtc, video_mid);
            for (index, (rid, _, size)) in LAYERS.iter().enumerate() {
                let Some(pt) = pt else { continue };
                if !layers_wanted[index] {
                    continue;
                }
                let mut direct = rtc.direct_api();
                let Some(stream) = direct.stream_tx_by_mid(video_mid, Some(Rid::from(*rid))) else {
                    continue;
                };
                let picture_id = layer_picture_id[index];
                layer_picture_id[index] = (picture_id + 1) & 0x7fff;
                let packets = size.div_ceil(PACKET_PAYLOAD);
                for n in 0..packets {
                    let len = PACKET_PAYLOAD.min(size - n * PACKET_PAYLOAD);
                    let payload = stamped(vp8_packet(key, n == 0, picture_id, len), epoch, now);
                    if let (Some(lean), Some(_)) = (&mut lean, remote) {
                        let packet = Packet {
                            mid: video_mid,
                            rid: Some(Rid::from(*rid)),
                            ssrc: *stream.ssrc(),
                            clock_hz: 90_000,
                            pt: *pt,
                            index: layer_seq[index],
                            time,
                            marker: n + 1 == packets,
                            payload: &Arc::from(payload),
                        };
                        lean.send(now, packet);
                    } else {
                        let write = RtpWrite::new(pt, layer_seq[index].into(), time, now, payload)
                            .marker(n + 1 == packets)
                            .nackable(true);
                        stream.write_rtp(write);
                    }
                    layer_seq[index] += 1;
                }
            }
            report.video_frames_sent += u64::from(measuring);
        }
        if let (Some(lean), Some(to)) = (&mut lean, remote) {
            lean.flush(&socket, to);
        }
        // Drain the peer.
        let timeout = drain(
            &mut rtc,
            &socket,
            measuring,
            epoch,
            &mut report,
            &mut ingress,
            &mut keyframe,
        )?;
        if let (Some(rx), Some(to)) = (lean_rx.as_mut(), remote) {
            rx.feedback(now, &socket, to);
            if let Some(lean) = lean.as_mut() {
                for twcc in rx.transport_feedback.drain(..) {
                    lean.transport_feedback(now, twcc);
                }
            }
        }
        if want_offer && pending.is_none() {
            want_offer = false;
            let mut api = rtc.sdp_api();
            for mid in &recv_mids {
                api.set_direction(*mid, Direction::RecvOnly);
            }
            if !api.has_changes() {
                recv_mids.push(api.add_media(
                    MediaKind::Audio,
                    Direction::RecvOnly,
                    None,
                    None,
                    None,
                ));
            }
            if let Some((offer, p)) = api.apply() {
                pending = Some(p);
                signal.send_offer(&offer.to_sdp_string());
            }
        }
        // Keep-alive (pings on the server's interval) and anything queued above.
        signal.handle_timeout(clock(now));
        flush(&mut ws, &mut signal).await?;
        let wake = timeout.min(next_audio).min(next_video).min(stop);
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(wake));
        tokio::select! {
            ready = socket.readable() => {
                ready?;
                // Everything already queued on the socket goes in before the next drain:
                // one loop turn (timer, signaling, output) per burst, not per datagram,
                // so the generator stays cheaper than the SFU it measures.
                let now = Instant::now();
                let mut taken = 0;
                while taken < RECEIVE_BURST && slots.try_recv(&socket)? {
                    for (source, datagram) in slots.received() {
                        taken += 1;
                        // Only the SFU sends to this socket: its media address.
                        remote = Some(source);
                        let beside = measuring.then_some(epoch);
                        if let Some(rx) = lean_rx.as_mut()
                            && rx.receive(now, datagram, beside, &mut report)
                        {
                            // Opened and counted beside str0m (`lean_receive.rs`).
                        } else if let Ok(receive) = Receive::new(Protocol::Udp, source, local, datagram) {
                            rtc.handle_input(Input::Receive(now, receive))?;
                            // In RTP mode str0m holds one received packet until polled.
                            drain(&mut rtc, &socket, measuring, epoch, &mut report, &mut ingress, &mut keyframe)?;
                        }
                    }
                }
            }
            frame = next(&mut ws) => {
                let frame = frame?.context("the SFU closed the session")?;
                signal.handle_frame(clock(Instant::now()), &frame)?;
                while let Some(event) = signal.poll_event() {
                    match event {
                        Signal::Answer { sdp, .. } => {
                            if let Some(p) = pending.take() {
                                rtc.sdp_api().accept_answer(p, SdpAnswer::from_sdp_string(&sdp)?)?;
                            }
                        }
                        Signal::SubscribedQuality(update) => {
                            // Codec-aware servers list qualities per codec; older ones flat.
                            #[allow(deprecated)]
                            let qualities = match update.subscribed_codecs.first() {
                                Some(codec) => &codec.qualities,
                                None => &update.subscribed_qualities,
                            };
                            for quality in qualities {
                                if let Some(wanted) = layers_wanted.get_mut(quality.quality as usize) {
                                    // A layer turned back on starts with a keyframe.
                                    keyframe |= quality.enabled && !*wanted;
                                    *wanted = quality.enabled;
                                }
                            }
                        }
                        Signal::Other(message) => {
                            if let signal_response::Message::MediaSectionsRequirement(need) = *message {
                                let mut api = rtc.sdp_api();
                                for _ in 0..need.num_audios {
                                    recv_mids.push(api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None));
                                }
                                for _ in 0..need.num_videos {
                                    recv_mids.push(api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None));
                                }
                                // Kept in the next offer (str0m drops an unapplied change set).
                                if let Some((offer, p)) = (pending.is_none()).then(|| api.apply()).flatten() {
                                    pending = Some(p);
                                    signal.send_offer(&offer.to_sdp_string());
                                } else {
                                    want_offer = true;
                                }
                            }
                        }
                        Signal::Leave(_) | Signal::SignalLost => bail!("the SFU closed the session"),
                        _ => {}
                    }
                }
                flush(&mut ws, &mut signal).await?;
            }
            _ = sleep => {
                // Woken for media as often as for str0m: its timer pass runs only when
                // its own timeout is due (every wake was 10% of the generator's time).
                let now = Instant::now();
                if now >= timeout {
                    rtc.handle_input(Input::Timeout(now))?;
                }
            }
        }
    }
    let (start_packets, start_bytes) = ingress_at_start.unwrap_or_default();
    let (packets, bytes) = sum(&ingress, lean_rx.as_ref());
    report.packets_received = packets.saturating_sub(start_packets);
    report.bytes_received = bytes.saturating_sub(start_bytes);
    if let Some(lean) = &lean {
        report.bytes_sent = lean.sent_bytes().saturating_sub(sent_at_start);
        report.uplink_estimate_bps = Some(lean.estimate_bps());
    }
    Ok(report)
}

/// Polls the peer until it waits: sends its datagrams, counts what it received (each
/// packet's delay from the send time it carries; a video frame by its marker packet).
/// Returns when it next needs a timeout.
fn drain(
    rtc: &mut Rtc,
    socket: &UdpSocket,
    measuring: bool,
    epoch: Instant,
    report: &mut PeerReport,
    ingress: &mut HashMap<(Mid, Option<Rid>), (u64, u64)>,
    keyframe: &mut bool,
) -> anyhow::Result<Instant> {
    loop {
        match rtc.poll_output() {
            Ok(Output::Transmit(t)) => {
                let _ = socket.try_send_to(&t.contents, t.destination);
            }
            Ok(Output::Timeout(t)) => return Ok(t),
            Ok(Output::Event(event)) => match event {
                Event::RtpPacket(packet) if measuring => {
                    let video = packet.time.frequency() == Frequency::NINETY_KHZ;
                    count(report, &packet.payload, video, packet.header.marker, epoch);
                }
                Event::MediaIngressStats(s) => {
                    ingress.insert((s.mid, s.rid), (s.packets, s.bytes));
                }
                Event::KeyframeRequest(_) => *keyframe = true,
                _ => {}
            },
            Err(error) => bail!("peer failed: {error}"),
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends every frame the session has queued.
async fn flush(ws: &mut Ws, signal: &mut Session) -> anyhow::Result<()> {
    while let Some(frame) = signal.poll_transmit() {
        ws.send(Message::Binary(frame.into())).await?;
    }
    Ok(())
}

fn sum(
    ingress: &HashMap<(Mid, Option<Rid>), (u64, u64)>,
    beside: Option<&LeanReceiver>,
) -> (u64, u64) {
    let (packets, bytes) = beside.map_or((0, 0), |rx| rx.received);
    ingress
        .values()
        .fold((packets, bytes), |(p, b), (ip, ib)| (p + ip, b + ib))
}

/// The next binary frame (`None` once the socket closes).
async fn next(ws: &mut Ws) -> anyhow::Result<Option<Vec<u8>>> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(bytes))) => return Ok(Some(bytes.to_vec())),
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
        }
    }
}

/// The first payload type the SFU accepted on a section.
fn first_pt(rtc: &Rtc, mid: Mid) -> Option<str0m::media::Pt> {
    let media = rtc.media(mid)?;
    let pts = media.remote_pts();
    rtc.codec_config()
        .params()
        .iter()
        .find(|p| pts.contains(&p.pt()))
        .map(|p| p.pt())
}
