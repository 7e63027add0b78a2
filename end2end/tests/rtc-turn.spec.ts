// TURN: coturn (Debian's `turnserver`, started here on 127.0.0.1 with `use-auth-secret`)
// relays a call whose browsers may use relay candidates only. One participant takes the
// ephemeral credentials from `/api/v1/video/ice-servers`; the other passes no ICE servers
// at all, so livekit-client uses the ones in the embedded SFU's join response, which
// must be the same TURN server with working credentials.
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { expect, request, test } from '@playwright/test';
import { baseURL, closeParticipants, inbound, participantPage, token, wsURL } from './rtc-fixtures';
import { clinician } from './fixtures';

let coturn: ChildProcess | undefined;

/** Resolves once coturn answers a STUN binding request on 127.0.0.1:3478. */
async function stunAnswers(): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.close(); resolve(false); }, 300);
    socket.on('message', () => { clearTimeout(timer); socket.close(); resolve(true); });
    socket.send(request, 3478, '127.0.0.1');
  });
}

test.beforeAll(async () => {
  coturn = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', '--listening-port=3478',
    '--use-auth-secret', `--static-auth-secret=${process.env.E2E_TURN_SECRET}`, '--realm=bedside.test',
    '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--simple-log', '--log-file=stdout',
    '--min-port=49160', '--max-port=49200',
  ], { stdio: 'ignore' });
  await expect.poll(stunAnswers, { timeout: 10_000 }).toBe(true);
});
test.afterAll(() => coturn?.kill());
test.afterEach(closeParticipants);

test('a call whose browsers may only relay goes through coturn, with credentials from the API and from the join response', async ({ browser }) => {
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const { ice_servers } = await (await api.get('/api/v1/video/ice-servers', { headers: auth })).json();
  const turn = ice_servers.find((s: any) => s.urls.some((u: string) => u.startsWith('turn:')));
  expect(turn.username).toMatch(/^\d+:/);
  await api.dispose();

  const room = `visit-turn-${Date.now()}`;
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  const relayWith = (servers?: RTCIceServer[]) => ({ iceTransportPolicy: 'relay', ...(servers ? { iceServers: servers } : {}) });
  await alice.evaluate(
    ([u, t, c]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: true, rtcConfig: c }),
    [wsURL, token('alice', { room }), relayWith([{ urls: turn.urls, username: turn.username, credential: turn.credential }])] as const,
  );
  await bob.evaluate(
    ([u, t, c]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: true, rtcConfig: c }),
    [wsURL, token('bob', { room }), relayWith()] as const,
  );

  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
  await expect.poll(() => alice.evaluate(() => (window as any).bedside.videoWidth('bob'))).toBeGreaterThan(0);
  await expect.poll(async () => (await inbound(alice, 'bob', 'audio')).packets).toBeGreaterThan(0);
  expect(await alice.evaluate(() => (window as any).bedside.localCandidateType('bob', 'video'))).toBe('relay');
  expect(await bob.evaluate(() => (window as any).bedside.localCandidateType('alice', 'video'))).toBe('relay');
});
