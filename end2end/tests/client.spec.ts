// Bedside's Rust/WASM media client (crate bedside-client, on the dev demo page
// /dev/call) against the embedded SFU, with itself and with LiveKit's own JS SDK, in
// both connection modes. scripts/test runs these in a loopback-only network namespace.
import { type ChildProcess, spawn } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { closeCalls, expectFlowing, inboundFrom, openCall, streams, videoWidth } from './client-fixtures';
import { closeParticipants, inbound, join, pageState, participantPage, roomService, token } from './rtc-fixtures';

test.afterEach(async () => {
  await closeCalls();
  await closeParticipants();
});

const modes = [
  { name: 'one peer connection (/rtc/v1)', two: false },
  { name: 'two peer connections (/rtc)', two: true },
];

for (const mode of modes) {
  test(`two Bedside clients see and hear each other over ${mode.name}, and mute shows remotely`, async ({ browser }) => {
    const room = `pair-${mode.two ? 'two' : 'one'}-${Date.now()}`;
    const ann = await openCall(browser, room, 'ann', { two: mode.two });
    const ben = await openCall(browser, room, 'ben', { two: mode.two });
    await expect(ann.locator('.call-stage')).toHaveAttribute('data-mode', mode.two ? 'two' : 'one');

    await expect.poll(() => videoWidth(ben, 'ann'), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => videoWidth(ann, 'ben'), { timeout: 15_000 }).toBeGreaterThan(0);
    await expectFlowing(ben, 'ann', 'video');
    await expectFlowing(ben, 'ann', 'audio');
    await expectFlowing(ann, 'ben', 'audio');

    // Ann turns her camera off: Ben's tile says so; on again, it clears.
    await ann.getByRole('button', { name: 'Stop video' }).click();
    await expect(ben.locator('figure.call-tile[data-identity="ann"][data-source="camera"]')).toHaveAttribute('data-muted', 'true');
    await ann.getByRole('button', { name: 'Start video' }).click();
    await expect(ben.locator('figure.call-tile[data-identity="ann"][data-source="camera"]')).toHaveAttribute('data-muted', 'false');

    // Ann shares her screen: it arrives at Ben as its own tile.
    await ann.getByRole('button', { name: 'Share screen' }).click();
    await expect.poll(() => videoWidth(ben, 'ann', 'screen_share'), { timeout: 15_000 }).toBeGreaterThan(0);
  });

  test(`a Bedside client and a livekit-client participant call each other over ${mode.name}`, async ({ browser }) => {
    const room = `interop-${mode.two ? 'two' : 'one'}-${Date.now()}`;
    const ann = await openCall(browser, room, 'ann', { two: mode.two });
    const lk = await participantPage(browser);
    await join(lk, 'lk', `dev-${room}`, { single: !mode.two, publish: true });

    // livekit-client gets our audio and video...
    await expect.poll(() => lk.evaluate(() => (window as any).bedside.videoWidth('ann')), { timeout: 15_000 }).toBeGreaterThan(0);
    const audio = await inbound(lk, 'ann', 'audio');
    await expect.poll(async () => (await inbound(lk, 'ann', 'audio')).packets).toBeGreaterThan(audio.packets);
    // ...and we get livekit-client's.
    await expect.poll(() => videoWidth(ann, 'lk'), { timeout: 15_000 }).toBeGreaterThan(0);
    await expectFlowing(ann, 'lk', 'audio');
    expect(await lk.evaluate(() => (window as any).bedside.remoteIdentities())).toEqual(['ann']);
  });
}

test('a publish grant given mid-call starts our camera without a reconnect, and a revoked one stops it', async ({ browser }) => {
  const room = `grant-${Date.now()}`;
  const watcher = await openCall(browser, room, 'watcher', { publish: false });
  const patient = await openCall(browser, room, 'patient', { granted: false });
  await expect(patient.getByRole('status')).toHaveText('Connected');
  expect(await watcher.locator('figure.call-tile[data-identity="patient"]').count()).toBe(0);

  const grant = { roomAdmin: true, room: `dev-${room}` };
  const allow = { canPublish: true, canSubscribe: true, canPublishData: true };
  const granted = await roomService('UpdateParticipant', { room: `dev-${room}`, identity: 'patient', permission: allow }, grant);
  expect(granted.status).toBe(200);
  await expect.poll(() => videoWidth(watcher, 'patient'), { timeout: 15_000 }).toBeGreaterThan(0);
  await expectFlowing(watcher, 'patient', 'audio');

  const revoked = await roomService('UpdateParticipant', { room: `dev-${room}`, identity: 'patient', permission: { ...allow, canPublish: false } }, grant);
  expect(revoked.status).toBe(200);
  await expect(watcher.locator('figure.call-tile[data-identity="patient"]')).toHaveCount(0);
  await expect(patient.locator('.call-stage')).toHaveAttribute('data-state', 'Connected');
});

test('a dropped signal connection resumes: media flows again and the other side never sees a leave', async ({ browser }) => {
  const room = `resume-${Date.now()}`;
  const ann = await openCall(browser, room, 'ann');
  const lk = await participantPage(browser);
  await join(lk, 'lk', `dev-${room}`, { single: true, publish: true });
  await expectFlowing(ann, 'lk', 'video');

  await ann.getByRole('button', { name: 'Drop signal connection' }).click();
  await expect(ann.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });
  await expectFlowing(ann, 'lk', 'video');
  const audio = await inbound(lk, 'ann', 'audio');
  await expect.poll(async () => (await inbound(lk, 'ann', 'audio')).packets).toBeGreaterThan(audio.packets);
  expect((await pageState(lk)).events).not.toContain('left:ann');
});

test('adaptive stream: a small tile gets a lower layer than a large one, and a hidden tile stops its video', async ({ browser }) => {
  test.setTimeout(120_000);
  const room = `adaptive-${Date.now()}`;
  const ann = await openCall(browser, room, 'ann');
  const small = await openCall(browser, room, 'small', { publish: false });
  const large = await openCall(browser, room, 'large', { publish: false });
  const tile = (page: typeof ann) => page.locator('figure.call-tile[data-identity="ann"][data-source="camera"] video');
  await tile(small).evaluate((v: HTMLVideoElement) => { v.style.width = '160px'; v.style.height = '90px'; });
  await tile(large).evaluate((v: HTMLVideoElement) => { v.style.width = '1280px'; v.style.height = '720px'; });
  const width = async (page: typeof ann) => (await inboundFrom(page, 'ann', 'video')).width;
  await expect.poll(() => width(small), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(async () => (await width(large)) > (await width(small)), { timeout: 60_000 }).toBe(true);

  await tile(small).evaluate((v: HTMLVideoElement) => { v.style.display = 'none'; });
  // Once the SFU stops forwarding, two samples a few seconds apart are equal.
  await expect.poll(async () => {
    const first = (await inboundFrom(small, 'ann', 'video')).bytes;
    await small.waitForTimeout(2500);
    return (await inboundFrom(small, 'ann', 'video')).bytes - first;
  }, { timeout: 30_000 }).toBe(0);
  await expectFlowing(large, 'ann', 'video');
});

test('after a media server restart the client rejoins in full and media flows again', async ({ browser }) => {
  // A media host of the test's own (`server sfu`), so restarting it touches no other test.
  const httpPort = 3117;
  const udpPort = 7917;
  const start = () =>
    spawn(`${process.env.CARGO_TARGET_DIR}/debug/server`, ['sfu'], {
      env: {
        ...process.env,
        BEDSIDE_ADDR: `127.0.0.1:${httpPort}`,
        BEDSIDE_RTC_BIND_IP: '127.0.0.1',
        BEDSIDE_RTC_PUBLIC_IP: '127.0.0.1',
        BEDSIDE_RTC_UDP_PORT: String(udpPort),
        BEDSIDE_RTC_TCP_PORT: 'off',
        BEDSIDE_WEBHOOK_URLS: '',
        RUST_LOG: 'warn',
      },
      stdio: 'ignore',
    });
  const healthy = () =>
    expect.poll(() => fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => r.status, () => 0), { timeout: 20_000 }).toBe(200);
  let sfu: ChildProcess = start();
  try {
    await healthy();
    const url = `ws://127.0.0.1:${httpPort}`;
    const room = `restart-${Date.now()}`;
    const context = await browser.newContext();
    const ann = await context.newPage();
    const query = new URLSearchParams({ url, token: token('ann', { room }), join: '1' });
    await ann.goto(`/dev/call?${query}`);
    await expect(ann.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });
    const lk = await participantPage(browser);
    await lk.evaluate(([u, t]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: true }), [url, token('lk', { room })] as const);
    await expectFlowing(ann, 'lk', 'video');

    sfu.kill('SIGKILL');
    await expect(ann.locator('.call-stage')).toHaveAttribute('data-state', 'Reconnecting', { timeout: 20_000 });
    sfu = start();
    await healthy();
    // The new server knows neither participant: both join again from scratch.
    await expect(ann.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 30_000 });
    await expect.poll(() => videoWidth(ann, 'lk'), { timeout: 30_000 }).toBeGreaterThan(0);
    await expectFlowing(ann, 'lk', 'video');
    await context.close();
  } finally {
    sfu.kill('SIGKILL');
  }
});
