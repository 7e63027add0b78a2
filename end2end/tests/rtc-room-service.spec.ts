// LiveKit's server contracts against the embedded SFU, seen from livekit-client:
// permissions granted live, removal and room deletion, and adaptive stream choosing a
// lower simulcast layer for a small video element.
import { expect, test } from '@playwright/test';
import { inbound, join, pageState, participantPage, roomService, closeParticipants } from './rtc-fixtures';

test.afterEach(closeParticipants);

const bedside = (page: import('@playwright/test').Page) => page.evaluate.bind(page);

test('UpdateParticipant grants publish live: the participant publishes without reconnecting', async ({ browser }) => {
  const room = `visit-grant-${Date.now()}`;
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: false });
  await join(bob, 'bob', room, { single: true, publish: false, canPublish: false });
  expect(await bedside(bob)(() => (window as any).bedside.canPublish())).toBe(false);

  const permission = { canPublish: true, canSubscribe: true, canPublishData: true };
  const grant = await roomService('UpdateParticipant', { room, identity: 'bob', permission }, { room, roomAdmin: true });
  expect(grant.status).toBe(200);
  await expect.poll(() => bedside(bob)(() => (window as any).bedside.canPublish())).toBe(true);

  await bedside(bob)(() => (window as any).bedside.publish());
  await expect.poll(() => alice.evaluate(() => (window as any).bedside.videoWidth('bob'))).toBeGreaterThan(0);
  expect((await pageState(bob)).events.filter((e) => e.startsWith('disconnected'))).toEqual([]);
});

test('RemoveParticipant and DeleteRoom disconnect the clients', async ({ browser }) => {
  const room = `visit-remove-${Date.now()}`;
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: false });
  await join(bob, 'bob', room, { single: false, publish: false });

  const removed = await roomService('RemoveParticipant', { room, identity: 'bob' }, { room, roomAdmin: true });
  expect(removed.status).toBe(200);
  await expect.poll(async () => (await pageState(bob)).events.join()).toContain('disconnected');
  await expect.poll(async () => (await pageState(alice)).events).toContain('left:bob');

  const deleted = await roomService('DeleteRoom', { room }, { roomCreate: true });
  expect(deleted.status).toBe(200);
  await expect.poll(async () => (await pageState(alice)).events.join()).toContain('disconnected');
  const rooms = await roomService('ListRooms', {}, { roomList: true });
  expect((rooms.body.rooms ?? []).map((r: { name: string }) => r.name)).not.toContain(room);
});

test('with adaptive stream, a small video element receives a lower layer than a large one', async ({ browser }) => {
  test.setTimeout(120_000);
  const room = `visit-adaptive-${Date.now()}`;
  const alice = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: true });
  const small = await participantPage(browser);
  const large = await participantPage(browser);
  await join(small, 'small', room, { single: true, publish: false, adaptiveStream: true, videoWidth: 160 });
  await join(large, 'large', room, { single: true, publish: false, adaptiveStream: true, videoWidth: 1280 });

  const width = async (page: import('@playwright/test').Page) => (await inbound(page, 'alice', 'video')).frameWidth;
  await expect.poll(() => width(small), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect
    .poll(async () => (await width(large)) > (await width(small)), { timeout: 60_000 })
    .toBe(true);
});
