// LiveKit's own browser SDK (livekit-client from npm, unmodified) against Bedside's
// embedded SFU, in both of its connection modes. scripts/test runs these in a
// loopback-only network namespace, so no media packet can leave 127.0.0.1.
import { execSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { baseURL, inbound, join, pageState, participantPage, token, wsURL, closeParticipants } from './rtc-fixtures';

test.afterEach(closeParticipants);

/** Packets the SFU received beside str0m (from every open room), from `GET /metrics`. */
async function receivedBesideStr0m(): Promise<number> {
  const operator = token('operator', { roomList: true, roomJoin: false });
  const response = await fetch(`${baseURL}/metrics`, { headers: { authorization: `Bearer ${operator}` } });
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('bedside_sfu_participant_received_packets_beside_str0m_total'))
    .map((line) => Number(line.split(' ').pop()))
    .reduce((sum, n) => sum + n, 0);
}

const modes = [
  { name: 'one peer connection (/rtc/v1)', single: true },
  { name: 'two peer connections (/rtc)', single: false },
];

for (const mode of modes) {
  test(`two livekit-client participants call each other over ${mode.name}`, async ({ browser }) => {
    const room = `visit-${mode.single ? 'single' : 'dual'}-${Date.now()}`;
    const alice = await participantPage(browser);
    const bob = await participantPage(browser);
    await join(alice, 'alice', room, { single: mode.single, publish: true });
    await join(bob, 'bob', room, { single: mode.single, publish: false });
    expect(await bob.evaluate(() => (window as any).bedside.usesSinglePeerConnection())).toBe(mode.single);

    // Bob sees and hears Alice.
    await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
    const video = await inbound(bob, 'alice', 'video');
    await expect.poll(async () => (await inbound(bob, 'alice', 'video')).bytes).toBeGreaterThan(video.bytes);
    const audio = await inbound(bob, 'alice', 'audio');
    await expect.poll(async () => (await inbound(bob, 'alice', 'audio')).packets).toBeGreaterThan(audio.packets);
    // Chromium negotiates AEAD-AES-GCM, so the SFU opens Alice's packets on its path
    // beside str0m (docs/sfu.md); the operator's metrics count them.
    await expect.poll(() => receivedBesideStr0m()).toBeGreaterThan(0);

    // Bob publishes too, and Alice receives him.
    await bob.evaluate(() => (window as any).bedside.publish());
    await expect.poll(() => alice.evaluate(() => (window as any).bedside.videoWidth('bob'))).toBeGreaterThan(0);
    await expect.poll(async () => (await inbound(alice, 'bob', 'audio')).packets).toBeGreaterThan(0);

    // A data packet from Alice reaches Bob, stamped with her identity.
    await alice.evaluate(() => (window as any).bedside.sendData('hello bob'));
    await expect.poll(async () => (await pageState(bob)).data).toContain('alice:hello bob');

    // Alice leaves; Bob is told.
    await alice.evaluate(() => (window as any).bedside.leave());
    await expect.poll(async () => (await pageState(bob)).events).toContain('left:alice');
  });
}

test('a token signed with a wrong secret is refused, and one for another room sees nobody here', async ({ browser }) => {
  const room = `visit-auth-${Date.now()}`;
  const alice = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: false });

  const mallory = await participantPage(browser);
  const forged = token('mallory', { room }, { secret: 'not-the-secret-of-this-server-0123456789' });
  const refused = await mallory.evaluate(
    ([url, t]) => (window as any).bedside.join(url, t, { singlePeerConnection: true, publish: false }).then(() => 'joined', (e: unknown) => String(e)),
    [wsURL, forged] as const,
  );
  expect(refused).not.toBe('joined');
  expect((await pageState(alice)).events).not.toContain('joined:mallory');

  const elsewhere = token('mallory', { room: `${room}-elsewhere` });
  await mallory.evaluate(
    ([url, t]) => (window as any).bedside.join(url, t, { singlePeerConnection: true, publish: false }),
    [wsURL, elsewhere] as const,
  );
  expect(await mallory.evaluate(() => (window as any).bedside.remoteIdentities())).toEqual([]);
  expect(await alice.evaluate(() => (window as any).bedside.remoteIdentities())).toEqual([]);
});

test('a signaling socket that sends garbage is closed, and the room carries on', async ({ browser }) => {
  const room = `visit-garbage-${Date.now()}`;
  const alice = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: true });
  const page = await participantPage(browser);
  const outcome = await page.evaluate(
    ([url, t]) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${url}/rtc?access_token=${t}`);
        ws.binaryType = 'arraybuffer';
        let first = true;
        ws.onmessage = () => {
          if (first) ws.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
          first = false;
        };
        ws.onclose = () => resolve('closed');
        setTimeout(() => resolve('still open'), 10_000);
      }),
    [wsURL, token('garbage', { room })] as const,
  );
  expect(outcome).toBe('closed');

  const bob = await participantPage(browser);
  await join(bob, 'bob', room, { single: true, publish: false });
  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
});

for (const mode of modes) {
  test(`a dropped signaling socket resumes over ${mode.name} without anyone seeing a leave`, async ({ browser }) => {
    const room = `visit-resume-${mode.single ? 'single' : 'dual'}-${Date.now()}`;
    const alice = await participantPage(browser);
    const bob = await participantPage(browser);
    await join(alice, 'alice', room, { single: mode.single, publish: true });
    await join(bob, 'bob', room, { single: mode.single, publish: false });
    await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);

    await bob.evaluate(() => (window as any).bedside.dropSignal());
    await expect.poll(async () => (await pageState(bob)).events).toContain('reconnected');

    const video = await inbound(bob, 'alice', 'video');
    await expect.poll(async () => (await inbound(bob, 'alice', 'video')).bytes).toBeGreaterThan(video.bytes);
    expect((await pageState(bob)).events.filter((e) => e.startsWith('disconnected'))).toEqual([]);
    expect((await pageState(alice)).events).not.toContain('left:bob');
    expect(await alice.evaluate(() => (window as any).bedside.remoteIdentities())).toContain('bob');
  });
}

test('a client whose UDP is blocked still connects, over ICE-TCP', async ({ browser }) => {
  // A firewall rule in the test's own network namespace drops every UDP packet to the
  // SFU, as a clinic network that blocks UDP would: every shard's port (shard i listens
  // on the configured port + i).
  const port = Number(process.env.BEDSIDE_RTC_UDP_PORT);
  expect(port, 'scripts/e2e-run sets the SFU UDP port').toBeGreaterThan(0);
  const rule = `INPUT -p udp --dport ${port}:${port + 255} -j DROP`;
  const iptables = (args: string) =>
    execSync(`iptables ${args}`, { env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH}` } });
  iptables(`-I ${rule}`);
  try {
    const room = `visit-tcp-${Date.now()}`;
    const alice = await participantPage(browser);
    const bob = await participantPage(browser);
    await join(alice, 'alice', room, { single: true, publish: true });
    await join(bob, 'bob', room, { single: true, publish: false });
    await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
    const protocol = await bob.evaluate(() => (window as any).bedside.transportProtocol('alice', 'video'));
    expect(protocol).toBe('tcp');
  } finally {
    iptables(`-D ${rule}`);
  }
});
