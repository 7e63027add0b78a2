// End-to-end encryption through the embedded SFU: livekit-client from npm in its E2EE
// mode (its own worker, insertable streams, a shared key). The SFU never holds the key;
// it must forward the encrypted frames untouched, or nobody could decrypt them.
import { expect, test } from '@playwright/test';
import { inbound, join, pageState, participantPage, closeParticipants } from './rtc-fixtures';

test.afterEach(closeParticipants);

test('encrypted video and audio pass through the SFU untouched: the key holder decodes them, a wrong key cannot', async ({ browser }) => {
  test.setTimeout(120_000);
  const room = `visit-e2ee-${Date.now()}`;
  const key = 'bedside-e2e-shared-key-0123456789';
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  const eve = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: true, e2eeKey: key });
  await join(bob, 'bob', room, { single: true, publish: false, e2eeKey: key });
  await join(eve, 'eve', room, { single: true, publish: false, e2eeKey: 'not-the-key-of-this-visit-987654' });

  // Bob, holding the key, decodes Alice's video frames and her audio keeps arriving.
  await expect.poll(async () => (await inbound(bob, 'alice', 'video')).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(10);
  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
  const audio = await inbound(bob, 'alice', 'audio');
  await expect.poll(async () => (await inbound(bob, 'alice', 'audio')).packets).toBeGreaterThan(audio.packets);
  expect((await pageState(bob)).events).not.toContain('encryption-error');

  // Eve receives the same packets from the SFU but cannot decrypt a frame of them: what
  // the SFU forwards really is ciphertext.
  await expect.poll(async () => (await inbound(eve, 'alice', 'video')).bytes).toBeGreaterThan(50_000);
  expect((await inbound(eve, 'alice', 'video')).framesDecoded).toBe(0);
});
