// TURN: coturn (Debian's `turnserver`, started here on 127.0.0.1 with `use-auth-secret`)
// relays a call whose browsers may use relay candidates only. One participant takes the
// ephemeral credentials from `/api/v1/video/ice-servers`; the other passes no ICE servers
// at all, so livekit-client uses the ones in the embedded SFU's join response, which
// must be the same TURN server with working credentials.
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { type Browser, expect, request, test } from '@playwright/test';
import { baseURL, closeParticipants, inbound, pageState, participantPage, token, wsURL } from './rtc-fixtures';
import { clinician } from './fixtures';

let coturn: ChildProcess | undefined;

/** Resolves once coturn answers a STUN binding request on 127.0.0.1:`port`. */
async function stunAnswers(port = 3478): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.close(); resolve(false); }, 300);
    socket.on('message', () => { clearTimeout(timer); socket.close(); resolve(true); });
    socket.send(request, port, '127.0.0.1');
  });
}

/** Debian's coturn on 127.0.0.1:`port`, relaying from `ports`, with the e2e secret. */
function startCoturn(port: number, ports: [number, number], extra: string[] = []): ChildProcess {
  return spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--use-auth-secret', `--static-auth-secret=${process.env.E2E_TURN_SECRET}`, '--realm=bedside.test',
    '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--simple-log', '--log-file=stdout',
    `--min-port=${ports[0]}`, `--max-port=${ports[1]}`, ...extra,
  ], { stdio: 'ignore' });
}

/** Two more coturns whose sessions carry at most 10 kB/s (too thin for any video layer)
 * and 45 kB/s (360 kbit/s: a weak link that can carry a low layer) each way. coturn
 * polices: what exceeds the rate is dropped. Links in user space, as kernel netem is not
 * available here. */
let thinCoturn: ChildProcess | undefined;
let weakCoturn: ChildProcess | undefined;

test.beforeAll(async () => {
  coturn = startCoturn(3478, [49160, 49200]);
  thinCoturn = startCoturn(3479, [49201, 49240], ['--max-bps=10000']);
  weakCoturn = startCoturn(3480, [49241, 49280], ['--max-bps=45000']);
  for (const port of [3478, 3479, 3480]) {
    await expect.poll(() => stunAnswers(port), { timeout: 10_000 }).toBe(true);
  }
});
test.afterAll(() => {
  coturn?.kill();
  thinCoturn?.kill();
  weakCoturn?.kill();
});
test.afterEach(closeParticipants);

/** Relay-only RTC settings through the coturn on `port`, with ephemeral credentials
 * from the API (all the coturns here share the e2e secret). */
/** Alice publishes in `room`; Bob only subscribes, with every packet through `relay`. */
async function callThroughRelay(browser: Browser, room: string, relay: RTCConfiguration) {
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  await alice.evaluate(
    ([u, t]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: true }),
    [wsURL, token('alice', { room })] as const,
  );
  await bob.evaluate(
    ([u, t, c]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: false, rtcConfig: c }),
    [wsURL, token('bob', { room }), relay] as const,
  );
  return { alice, bob };
}

async function relayThrough(port: number): Promise<RTCConfiguration> {
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const { ice_servers } = await (await api.get('/api/v1/video/ice-servers', { headers: auth })).json();
  const turn = ice_servers.find((s: any) => s.urls.some((u: string) => u.startsWith('turn:')));
  await api.dispose();
  const urls = [`turn:127.0.0.1:${port}?transport=udp`];
  return { iceTransportPolicy: 'relay', iceServers: [{ urls, username: turn.username, credential: turn.credential }] };
}

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

test('a subscriber behind a link too thin for any video layer is told its video paused and keeps hearing', async ({ browser }) => {
  test.setTimeout(90_000);
  const thin = await relayThrough(3479);

  const { bob } = await callThroughRelay(browser, `visit-thin-${Date.now()}`, thin);
  await expect.poll(async () => (await inbound(bob, 'alice', 'audio')).packets).toBeGreaterThan(0);
  await expect
    .poll(async () => (await pageState(bob)).events, { timeout: 45_000 })
    .toContain('stream:alice:video:paused');
  // Sound goes on through the same thin link.
  const heard = (await inbound(bob, 'alice', 'audio')).packets;
  await expect.poll(async () => (await inbound(bob, 'alice', 'audio')).packets).toBeGreaterThan(heard + 50);
});

test.describe('a weak policed link', () => {
  // Until 2026-12-08 this link collapsed in about one run in six (3-6 fps, or 20% lost):
  // every lost packet was repaired every round trip into the same policer, late reports
  // of one overshoot cut the estimate again and again (to a quarter of the link), and
  // probes used up the policer's second (docs/sfu.md, "A weak policed link that no
  // longer collapses"). Since then 12 runs, 3 of them with both cores busy, gave 19-20
  // fps with 0-7% lost. The retry guards against the host, not the SFU.
  test.describe.configure({ retries: 1 });

  test('a subscriber behind a weak policed link gets a lower layer that keeps moving, with little loss', async ({ browser }) => {
    test.setTimeout(90_000);
    const weak = await relayThrough(3480);
    const { bob } = await callThroughRelay(browser, `visit-weak-${Date.now()}`, weak);
    await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice')), { timeout: 20_000 }).toBeGreaterThan(0);
    // The estimate settles on what the policed link carries.
    await bob.waitForTimeout(15_000);
    const before = await inbound(bob, 'alice', 'video');
    await bob.waitForTimeout(10_000);
    const after = await inbound(bob, 'alice', 'video');
    const fps = (after.framesDecoded - before.framesDecoded) / 10;
    const received = after.packets - before.packets;
    const lost = after.packetsLost - before.packetsLost;
    const lossPercent = (100 * lost) / Math.max(1, received + lost);
    const kbps = Math.round(((after.bytes - before.bytes) * 8) / 10 / 1000);
    console.log(`weak link: ${fps} fps, ${after.frameWidth} px wide, ${kbps} kbit/s, ${lossPercent.toFixed(1)}% lost, ${after.freezeCount - before.freezeCount} freezes`);
    expect(after.frameWidth, 'a layer below the top').toBeLessThan(1280);
    // Measured here since 2026-12-08: 19-20 fps, 0-7% of packets lost (see above).
    expect(fps, 'video keeps moving').toBeGreaterThanOrEqual(12);
    expect(lossPercent, 'bursts are spread to the rate the link carries, not dropped by its policer').toBeLessThan(12);
    const videoEvents = (await pageState(bob)).events.filter((e) => e.startsWith('stream:alice:video:'));
    expect(videoEvents.at(-1) ?? 'stream:alice:video:active', 'video is not left paused').toBe('stream:alice:video:active');
  });
});
