// Temporal layers through the embedded SFU, with LiveKit's own JS SDK: Chromium encodes
// each VP8 simulcast layer in three temporal layers, and a subscriber that asks for
// fewer frames (setVideoFPS, UpdateTrackSettings.fps) is sent only the lower ones,
// renumbered so that its decoder sees no loss and keeps decoding.
import { expect, test, type Page } from '@playwright/test';
import { closeParticipants, inbound, join, participantPage } from './rtc-fixtures';

test.afterEach(closeParticipants);

/** Frames `page` decoded of `identity`'s video per second, over two seconds. */
async function decodedFps(page: Page, identity: string) {
  const before = (await inbound(page, identity, 'video')).framesDecoded;
  await page.waitForTimeout(2_000);
  return ((await inbound(page, identity, 'video')).framesDecoded - before) / 2;
}

test('a subscriber that asks for fewer frames gets the lower temporal layers, decoded without a freeze', async ({ browser }) => {
  test.setTimeout(90_000);
  const room = `temporal-${Date.now()}`;
  const alice = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: true });
  const bob = await participantPage(browser);
  await join(bob, 'bob', room, { single: true, publish: false });
  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
  // Chromium's fake camera runs at 20 frames a second: TL0 is 5 of them.
  await expect.poll(() => decodedFps(bob, 'alice'), { timeout: 20_000 }).toBeGreaterThan(15);

  expect(await bob.evaluate(() => (window as any).bedside.setVideoFPS('alice', 5))).toBe(true);
  await expect.poll(() => decodedFps(bob, 'alice'), { timeout: 20_000 }).toBeLessThan(8);
  const freezes = (await inbound(bob, 'alice', 'video')).freezeCount;
  const lost = (await inbound(bob, 'alice', 'video')).packetsLost;
  const slow = await decodedFps(bob, 'alice');
  expect(slow, 'TL0 alone: a quarter of the frames, still moving').toBeGreaterThan(3);
  const after = await inbound(bob, 'alice', 'video');
  expect(after.packetsLost - lost, 'the dropped frames leave no gaps the receiver counts as lost').toBeLessThanOrEqual(2);
  expect(after.freezeCount, 'a quarter of the frames, evenly spaced, is slow but no freeze').toBe(freezes);

  await bob.evaluate(() => (window as any).bedside.setVideoFPS('alice', 30));
  await expect.poll(() => decodedFps(bob, 'alice'), { timeout: 20_000 }).toBeGreaterThan(15);
});
