// The embedded SFU runs its rooms on shards, one thread each with its own media port
// (scripts/e2e-run starts two). A room lives on one shard, chosen from its name; these
// tests cross the boundary with livekit-client participants.
import { expect, test } from '@playwright/test';
import { inbound, join, participantPage, roomService, closeParticipants } from './rtc-fixtures';

test.afterEach(closeParticipants);

/** Alice publishes into `room`, Bob watches her; returns Bob's page and the SFU port his media arrives from. */
async function call(browser: import('@playwright/test').Browser, room: string) {
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: true });
  await join(bob, 'bob', room, { single: true, publish: false });
  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
  const address: string = await bob.evaluate(() => (window as any).bedside.remoteAddress('alice', 'video'));
  return { bob, port: address.split(':').pop() };
}

test('two rooms on different shards each carry their own call on their own media port, and the room service sees both', async ({ browser }) => {
  test.setTimeout(120_000);
  const first = { room: 'shards-first', ...(await call(browser, 'shards-first')) };
  // Room names are spread over the shards by a hash: the first of these names that
  // lands on the other shard (half of them do) is the second room.
  let second: { room: string; bob: import('@playwright/test').Page; port?: string } | undefined;
  for (let i = 0; i < 12 && !second; i++) {
    const room = `shards-second-${i}`;
    const attempt = await call(browser, room);
    if (attempt.port !== first.port) second = { room, ...attempt };
  }
  expect(second, 'some room name lands on the other shard').toBeTruthy();

  // Both calls flow at once, each from its own shard's port.
  for (const { bob } of [first, second!]) {
    const before = await inbound(bob, 'alice', 'video');
    await expect.poll(async () => (await inbound(bob, 'alice', 'video')).bytes).toBeGreaterThan(before.bytes);
  }

  // The room service reaches each room on its shard, and lists rooms from every shard.
  const listed = await roomService('ListRooms', { names: [first.room, second!.room] }, { roomList: true });
  expect(listed.status).toBe(200);
  expect(listed.body.rooms.map((r: { name: string }) => r.name).sort()).toEqual([first.room, second!.room].sort());
  for (const room of [first.room, second!.room]) {
    const participants = await roomService('ListParticipants', { room }, { roomAdmin: true, room });
    expect(participants.body.participants.map((p: { identity: string }) => p.identity).sort()).toEqual(['alice', 'bob']);
  }
});
