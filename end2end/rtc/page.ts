// The test page's script: livekit-client from npm, unmodified, bundled by esbuild when the
// tests start (no CDN). The Playwright specs drive it through `window.bedside`.
import { ExternalE2EEKeyProvider, Room, RoomEvent, Track } from 'livekit-client';
import type { RemoteTrack, RemoteParticipant } from 'livekit-client';

type Options = {
  singlePeerConnection: boolean;
  publish: boolean;
  adaptiveStream?: boolean;
  videoWidth?: number;
  rtcConfig?: RTCConfiguration;
  /** End-to-end encryption with this shared key (LiveKit's E2EE worker, insertable streams). */
  e2eeKey?: string;
};

let renderWidth = 640;

const state = {
  events: [] as string[],
  data: [] as string[],
  tracks: new Map<string, RemoteTrack>(),
  joinStartedAt: 0,
  firstFrameAt: 0,
  error: '',
};
let room: Room | undefined;

function key(identity: string, kind: string) {
  return `${identity}:${kind}`;
}

function onSubscribed(track: RemoteTrack, participant: RemoteParticipant) {
  state.events.push(`subscribed:${participant.identity}:${track.kind}`);
  state.tracks.set(key(participant.identity, track.kind), track);
  const element = track.attach();
  element.id = `${track.kind}-${participant.identity}`;
  if (track.kind === Track.Kind.Video) {
    const video = element as HTMLVideoElement;
    video.muted = true;
    video.style.width = `${renderWidth}px`;
    video.style.height = `${Math.round((renderWidth * 9) / 16)}px`;
    video.requestVideoFrameCallback(() => {
      if (!state.firstFrameAt) state.firstFrameAt = performance.now();
    });
  }
  document.body.appendChild(element);
}

async function join(url: string, token: string, options: Options) {
  renderWidth = options.videoWidth ?? 640;
  const keyProvider = options.e2eeKey ? new ExternalE2EEKeyProvider() : undefined;
  room = new Room({
    singlePeerConnection: options.singlePeerConnection,
    adaptiveStream: options.adaptiveStream ?? false,
    // The worker is served by the test's page server from livekit-client's own dist.
    e2ee: keyProvider ? { keyProvider, worker: new Worker('/e2ee-worker.js') } : undefined,
  });
  room.on(RoomEvent.EncryptionError, () => state.events.push('encryption-error'));
  if (keyProvider) {
    await keyProvider.setKey(options.e2eeKey!);
    await room.setE2EEEnabled(true);
  }
  room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => onSubscribed(track, participant));
  room.on(RoomEvent.ParticipantConnected, (p) => state.events.push(`joined:${p.identity}`));
  room.on(RoomEvent.ParticipantDisconnected, (p) => state.events.push(`left:${p.identity}`));
  room.on(RoomEvent.Disconnected, (reason) => state.events.push(`disconnected:${reason}`));
  room.on(RoomEvent.Reconnecting, () => state.events.push('reconnecting'));
  room.on(RoomEvent.Reconnected, () => state.events.push('reconnected'));
  room.on(RoomEvent.ParticipantPermissionsChanged, () => state.events.push('permissions-changed'));
  room.on(RoomEvent.TrackStreamStateChanged, (publication, streamState, participant) =>
    state.events.push(`stream:${participant.identity}:${publication.kind}:${streamState}`),
  );
  room.on(RoomEvent.ConnectionQualityChanged, (quality, participant) =>
    state.events.push(`quality:${participant.identity}:${quality}`),
  );
  room.on(RoomEvent.ActiveSpeakersChanged, (speakers) =>
    state.events.push(`speakers:${speakers.map((s) => s.identity).sort().join(',')}`),
  );
  room.on(RoomEvent.ParticipantNameChanged, (name, participant) =>
    state.events.push(`name:${participant.identity}:${name}`),
  );
  room.on(RoomEvent.DataReceived, (payload, participant) => {
    state.data.push(`${participant?.identity}:${new TextDecoder().decode(payload)}`);
  });
  state.joinStartedAt = performance.now();
  state.firstFrameAt = 0;
  try {
    await room.connect(url, token, options.rtcConfig ? { rtcConfig: options.rtcConfig } : undefined);
    if (options.publish) await room.localParticipant.enableCameraAndMicrophone();
  } catch (error) {
    state.error = String(error);
    throw error;
  }
}

/** Inbound RTP counters of the remote track of `identity` of `kind`. */
async function inbound(identity: string, kind: string) {
  const track = state.tracks.get(key(identity, kind));
  const stats = await track?.receiver?.getStats();
  let result = { bytes: 0, packets: 0, packetsLost: 0, frameWidth: 0, framesDecoded: 0, freezeCount: 0 };
  stats?.forEach((s: any) => {
    if (s.type === 'inbound-rtp') {
      result = {
        bytes: s.bytesReceived ?? 0,
        packets: s.packetsReceived ?? 0,
        packetsLost: s.packetsLost ?? 0,
        frameWidth: s.frameWidth ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        freezeCount: s.freezeCount ?? 0,
      };
    }
  });
  return result;
}

/** The stats of the ICE candidate pair carrying a remote track: its two candidates. */
async function selectedCandidates(identity: string, kind: string) {
  const stats = await state.tracks.get(key(identity, kind))?.receiver?.getStats();
  const byId = new Map<string, any>();
  stats?.forEach((s: any) => byId.set(s.id, s));
  const transport = [...byId.values()].find((s) => s.type === 'transport');
  const pair = byId.get(transport?.selectedCandidatePairId);
  return { local: byId.get(pair?.localCandidateId), remote: byId.get(pair?.remoteCandidateId) };
}

/** Protocol (`udp`/`tcp`) of the ICE candidate pair carrying a remote track. */
async function transportProtocol(identity: string, kind: string) {
  return (await selectedCandidates(identity, kind)).local?.protocol ?? '';
}

/** The type (`host`, `srflx`, `relay`) of our end of the pair carrying a remote track. */
async function localCandidateType(identity: string, kind: string) {
  return (await selectedCandidates(identity, kind)).local?.candidateType ?? '';
}

/** `address:port` of the SFU's end of the ICE candidate pair carrying a remote track.
 * Chromium hides the address of a peer-reflexive candidate: its type stands in. */
async function remoteAddress(identity: string, kind: string) {
  const { remote } = await selectedCandidates(identity, kind);
  return remote ? `${remote.address || remote.candidateType}:${remote.port}` : '';
}

function videoWidth(identity: string) {
  const video = document.getElementById(`video-${identity}`) as HTMLVideoElement | null;
  return video?.videoWidth ?? 0;
}

async function sendData(text: string, destinations: string[] = []) {
  await room?.localParticipant.publishData(new TextEncoder().encode(text), {
    reliable: true,
    destinationIdentities: destinations,
  });
}

async function publish() {
  await room?.localParticipant.enableCameraAndMicrophone();
}

/** Drops the signaling socket, as a network blip would; the client resumes. */
async function dropSignal() {
  await room?.simulateScenario('signal-reconnect');
}

/** Asks the server for at most `fps` frames a second of `identity`'s video
 * (livekit-client's `setVideoFPS`: `UpdateTrackSettings.fps`). */
function setVideoFPS(identity: string, fps: number) {
  const participant = room?.remoteParticipants.get(identity);
  const publication = participant?.getTrackPublication(Track.Source.Camera);
  publication?.setVideoFPS(fps);
  return Boolean(publication);
}

/** Renames us (livekit-client's `setName`): "ok", or the error it rejected with. */
async function setName(name: string) {
  try {
    await room?.localParticipant.setName(name);
    return 'ok';
  } catch (error) {
    return String(error);
  }
}

function canPublish() {
  return room?.localParticipant.permissions?.canPublish ?? false;
}

function remoteIdentities() {
  return Array.from(room?.remoteParticipants.values() ?? []).map((p) => p.identity);
}

async function leave() {
  await room?.disconnect();
  state.tracks.clear();
  document.querySelectorAll('video, audio').forEach((e) => e.remove());
}

let markedPeerConnection: unknown;

/** The transport's RTCPeerConnection (private in livekit-client; read only to prove a
 * permission change reused it rather than reconnecting). */
function peerConnection() {
  const manager = (room as any)?.engine?.pcManager;
  return manager?.publisher?.pc ?? manager?.publisher?._pc;
}

function markPeerConnection() {
  markedPeerConnection = peerConnection();
  return Boolean(markedPeerConnection);
}

function samePeerConnection() {
  return Boolean(markedPeerConnection) && peerConnection() === markedPeerConnection;
}

function usesSinglePeerConnection() {
  // Private in livekit-client; read only to prove which flow ran.
  const engine = (room as any)?.engine;
  return Boolean(engine?.pcManager && !engine.pcManager.subscriber);
}

(window as any).bedside = {
  join,
  remoteAddress,
  localCandidateType,
  leave,
  publish,
  canPublish,
  setVideoFPS,
  setName,
  dropSignal,
  remoteIdentities,
  inbound,
  videoWidth,
  transportProtocol,
  sendData,
  usesSinglePeerConnection,
  markPeerConnection,
  samePeerConnection,
  state: () => ({
    events: state.events,
    data: state.data,
    error: state.error,
    firstFrameMs: state.firstFrameAt ? state.firstFrameAt - state.joinStartedAt : 0,
  }),
};
