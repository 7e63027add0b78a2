// Webhooks from the embedded SFU, as a LiveKit webhook receiver sees them: in order, as
// application/webhook+json, signed with the API secret over the body's SHA-256.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { closeParticipants, join, participantPage, roomService } from './rtc-fixtures';

test.afterEach(closeParticipants);

type Delivery = { authorization: string; contentType: string; body: string };

/** Verifies a delivery as livekit-api's WebhookReceiver does; returns the event. */
function verified(delivery: Delivery) {
  const [header, payload, signature] = delivery.authorization.split('.');
  const expected = createHmac('sha256', process.env.LIVEKIT_API_SECRET ?? '')
    .update(`${header}.${payload}`)
    .digest('base64url');
  expect(signature).toBe(expected);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  expect(claims.iss).toBe(process.env.LIVEKIT_API_KEY);
  expect(claims.exp * 1000).toBeGreaterThan(Date.now());
  expect(claims.sha256).toBe(createHash('sha256').update(delivery.body).digest('base64'));
  expect(delivery.contentType).toBe('application/webhook+json');
  return JSON.parse(delivery.body);
}

function eventsFor(room: string): { event: string; identity?: string }[] {
  const log = process.env.E2E_WEBHOOK_LOG ?? '';
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => verified(JSON.parse(line)))
    .filter((e) => e.room?.name === room)
    .map((e) => ({ event: e.event, identity: e.participant?.identity }));
}

test('room, participant and track webhooks arrive in order and verify', async ({ browser }) => {
  const room = `visit-hooks-${Date.now()}`;
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  await join(alice, 'alice', room, { single: true, publish: true });
  await join(bob, 'bob', room, { single: true, publish: false });
  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice'))).toBeGreaterThan(0);
  await alice.evaluate(() => (window as any).bedside.leave());
  expect((await roomService('DeleteRoom', { room }, { roomCreate: true })).status).toBe(200);

  await expect.poll(() => eventsFor(room).at(-1)?.event).toBe('room_finished');
  const events = eventsFor(room).map((e) => (e.identity ? `${e.event}:${e.identity}` : e.event));
  expect(events).toEqual([
    'room_started',
    'participant_joined:alice',
    'track_published:alice',
    'track_published:alice',
    'participant_joined:bob',
    'track_unpublished:alice',
    'track_unpublished:alice',
    'participant_left:alice',
    'participant_left:bob',
    'room_finished',
  ]);
});
