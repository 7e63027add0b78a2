// What the server tells a call about its participants beside their media: who is
// speaking (SpeakersChanged, from the audio levels Chromium's packets carry) and how
// good each connection is (ConnectionQualityUpdate). Chromium's fake microphone
// beeps for a few milliseconds a second, which is not speech: this browser plays a
// synthetic voice from a file instead, as a talking microphone.
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import config from '../playwright.config';
import { closeCalls, expectFlowing, openCall } from './client-fixtures';
import { closeParticipants, join as joinRoom, pageState, participantPage, token, wsURL } from './rtc-fixtures';

/** A 16-bit mono 48 kHz WAV, `seconds` long, that sounds to an audio pipeline like a
 * voice: harmonics of a pitch gliding between 120 and 200 Hz, in syllables four times
 * a second with short gaps between (a steady tone is what noise suppression removes). */
function voiceWav(seconds: number): Buffer {
  const rate = 48_000;
  const samples = rate * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    const pitch = 160 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / rate;
    const syllable = (t * 4) % 1;
    const envelope = syllable < 0.8 ? Math.sin((Math.PI * syllable) / 0.8) : 0;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(h * phase) / h;
    wav.writeInt16LE(Math.round(6_000 * envelope * v), 44 + i * 2);
  }
  return wav;
}

// Written before the browser starts (it launches for the first test), removed after.
const voice = join(tmpdir(), 'bedside-e2e-voice.wav');
const launch = config.use!.launchOptions!;
test.use({ launchOptions: { ...launch, args: [...launch.args!, `--use-file-for-fake-audio-capture=${voice}`] } });

test.beforeAll(() => writeFileSync(voice, voiceWav(4)));
test.afterEach(closeCalls);
test.afterEach(closeParticipants);
test.afterAll(() => unlinkSync(voice));

test('a participant who talks rings their tile for the others, and muting ends it', async ({ browser }) => {
  const room = `speakers-${Date.now()}`;
  const ann = await openCall(browser, room, 'ann');
  const ben = await openCall(browser, room, 'ben');
  await expectFlowing(ben, 'ann', 'audio');
  const annAtBen = ben.locator('figure.call-tile[data-identity="ann"][data-source="camera"]');
  await expect(annAtBen).toHaveAttribute('data-speaking', 'true');

  await ann.getByTestId('call-mic').click();
  await expect(annAtBen).toHaveAttribute('data-speaking', 'false');
  await ann.getByTestId('call-mic').click();
  await expect(annAtBen).toHaveAttribute('data-speaking', 'true');

  // Both connections are graded on loopback, and neither is called weak.
  await expect(annAtBen).toHaveAttribute('data-link', /excellent|good/);
  await expect(annAtBen.getByTestId('peer-link-note')).toHaveCount(0);
});

test("livekit-client raises connection quality, active speakers and a participant's own rename from our server", async ({ browser }) => {
  const room = `lk-speakers-${Date.now()}`;
  const alice = await participantPage(browser);
  await alice.evaluate(
    ([u, t]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: true }),
    [wsURL, token('alice', { room, canUpdateOwnMetadata: true })] as const,
  );
  const bob = await participantPage(browser);
  await joinRoom(bob, 'bob', room, { single: true, publish: false });
  const events = async () => (await pageState(bob)).events;

  await expect.poll(events).toContain('quality:alice:excellent');
  await expect.poll(events).toContain('speakers:alice');

  expect(await alice.evaluate(() => (window as any).bedside.setName('Alice (interpreter)'))).toBe('ok');
  await expect.poll(events).toContain('name:alice:Alice (interpreter)');
  // Without canUpdateOwnMetadata the server refuses at once (not a 5 s timeout).
  const refused = await bob.evaluate(() => (window as any).bedside.setName('Someone else'));
  expect(refused).not.toBe('ok');
  expect(refused).not.toContain('timed out');
});
