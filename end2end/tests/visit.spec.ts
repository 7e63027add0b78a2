// The patient's page from the emailed link: who and when; nothing redeemed until
// "Continue"; the waiting room keeps the patient's place across a reload; admission
// shows at once; the end of the visit closes the page and the link.
import { expect, test } from '@playwright/test';
import { hydrated } from './fixtures';
import { apiVisit, passDeviceCheck, waitInWaitingRoom } from './visit-fixtures';

test('a patient opens the link, waits, is admitted, and the ended visit closes the link', async ({ page }) => {
  const { api, auth, meeting, patientId, link, patientState: stateOf } = await apiVisit('Sam Whitfield');

  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await expect(page.getByTestId('visit-details')).toContainText('Dr. Dana Reyes');
  await expect(page.getByText('Hi Sam.')).toBeVisible();
  expect(await stateOf()).toBe('invited');

  await page.getByTestId('visit-continue').click();

  await passDeviceCheck(page);
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await expect(page.locator('.call-state')).toContainText('Connected', { timeout: 20_000 });
  await expect.poll(stateOf).toBe('waiting');

  // A reload keeps the patient in the waiting room, with no second "Continue".
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await expect(page.getByTestId('visit-continue')).toHaveCount(0);
  await expect.poll(stateOf).toBe('waiting');

  // Admitted at once, while the reloaded page may still be between its old connection
  // and its new one: the admission reaches the new page whichever side of it lands.
  const admit = await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  expect(admit.status()).toBe(200);
  await expect(page.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });

  expect((await api.delete(`/api/v1/meetings/${meeting.id}`, { headers: auth })).status()).toBe(204);
  await expect(page.getByTestId('visit-ended')).toBeVisible({ timeout: 15_000 });
  await page.goto('/');
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await expect(page.getByTestId('visit-error')).toContainText('not valid');
  await api.dispose();
});

test('opening the link on a second device moves the visit there, and the first page says so', async ({ page, browser }) => {
  const { api, link } = await apiVisit('Alex Moreau');

  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').click();
  await passDeviceCheck(page);
  await expect(page.getByTestId('visit-waiting')).toBeVisible();

  const phone = await (await browser.newContext()).newPage();
  await phone.goto(`/visit#${link}`);
  await hydrated(phone);
  await phone.getByTestId('visit-continue').click();
  await passDeviceCheck(phone);
  await expect(phone.getByTestId('visit-waiting')).toBeVisible();
  await expect(page.getByTestId('visit-replaced')).toBeVisible({ timeout: 15_000 });
  await phone.context().close();
  await api.dispose();
});

test('a link without a token, or a forged one, says so plainly', async ({ page }) => {
  await page.goto('/visit');
  await hydrated(page);
  await expect(page.getByTestId('visit-error')).toContainText('not valid');
  await page.goto('/visit#forged-token-value');
  await hydrated(page);
  await expect(page.getByTestId('visit-error')).toContainText('not valid');
});

test('a patient who presses Join before the check has reached the media server is still sent once admitted', async ({ page }) => {
  const { api, auth, meeting, patientId, link } = await apiVisit('Noor Haddad');
  // The check's connection is held back, so Join comes while it is still connecting.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => { release = resolve; });
  await page.route('**/api/v1/livekit/token', async (route) => { await held; await route.continue(); });
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').click();
  await expect(page.getByTestId('check-video')).toHaveText("Connecting to the clinic's video service…");
  await expect.poll(() => page.getByTestId('device-preview').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
  await page.getByTestId('join-waiting').click();
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  release();
  await expect(page.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });

  await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  await expect(page.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  // The checked microphone and camera went into the call.
  await expect(page.getByTestId('call-mic')).toHaveText('Mute', { timeout: 15_000 });
  await expect(page.getByTestId('call-camera')).toHaveText('Stop video');
  await api.dispose();
});

test('a waiting patient sends no media until admitted, then sends at once', async ({ page }) => {
  // Every peer connection the page opens, to read what it sends.
  await page.addInitScript(() => {
    const Original = RTCPeerConnection;
    (window as any).__pcs = [];
    (window as any).RTCPeerConnection = function (...args: any[]) {
      const pc = new (Original as any)(...args);
      (window as any).__pcs.push(pc);
      return pc;
    };
    (window as any).RTCPeerConnection.prototype = Original.prototype;
  });
  const sending = () =>
    page.evaluate(async () => {
      let bytes = 0;
      for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((r: any) => { if (r.type === 'outbound-rtp') bytes += r.bytesSent ?? 0; });
      }
      return { bytes };
    });
  const { api, auth, meeting, patientId, link } = await apiVisit('Noor Haddad');
  await waitInWaitingRoom(page, link);

  // Waiting, connected to the media server: not one byte of camera or microphone has
  // left the browser.
  await page.waitForTimeout(1_500);
  expect((await sending()).bytes).toBe(0);

  await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  await expect(page.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  await expect.poll(async () => (await sending()).bytes, { timeout: 15_000 }).toBeGreaterThan(20_000);
  await api.delete(`/api/v1/meetings/${meeting.id}`, { headers: auth });
  await api.dispose();
});

test("a patient's Mute silences what is sent, and the ended visit turns their camera and microphone off", async ({ page }) => {
  // Every peer connection the page opens, and every media track it captures or copies.
  await page.addInitScript(() => {
    const Original = RTCPeerConnection;
    const w = window as any;
    w.__pcs = [];
    w.__tracks = [];
    w.RTCPeerConnection = function (...args: any[]) {
      const pc = new (Original as any)(...args);
      w.__pcs.push(pc);
      return pc;
    };
    w.RTCPeerConnection.prototype = Original.prototype;
    const capture = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await capture(constraints);
      w.__tracks.push(...stream.getTracks());
      return stream;
    };
    const copy = MediaStreamTrack.prototype.clone;
    MediaStreamTrack.prototype.clone = function () {
      const track = copy.call(this);
      w.__tracks.push(track);
      return track;
    };
  });
  // What the page puts on the wire: each sender's track, enabled or not.
  const sent = () =>
    page.evaluate(() =>
      ((window as any).__pcs as RTCPeerConnection[])
        .filter((pc) => pc.connectionState !== 'closed')
        .flatMap((pc) => pc.getSenders())
        .filter((s) => s.track)
        .map((s) => ({ kind: s.track!.kind, enabled: s.track!.enabled })),
    );
  const { api, auth, meeting, patientId, link } = await apiVisit('Jamie Ortiz');
  await waitInWaitingRoom(page, link);
  await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  await expect(page.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('call-mic')).toHaveText('Mute', { timeout: 15_000 });
  await expect.poll(async () => (await sent()).filter((s) => s.kind === 'audio' && s.enabled).length, { timeout: 15_000 }).toBe(1);

  await page.getByTestId('call-mic').click();
  await expect(page.getByTestId('call-mic')).toHaveText('Unmute');
  // The microphone's sound no longer reaches the connection.
  expect((await sent()).filter((s) => s.kind === 'audio').map((s) => s.enabled)).toEqual([false]);

  expect((await api.delete(`/api/v1/meetings/${meeting.id}`, { headers: auth })).status()).toBe(204);
  await expect(page.getByTestId('visit-ended')).toBeVisible({ timeout: 15_000 });
  // No capture outlives the visit: the camera light goes off.
  await expect
    .poll(() => page.evaluate(() => ((window as any).__tracks as MediaStreamTrack[]).filter((t) => t.readyState !== 'ended').map((t) => t.kind)))
    .toEqual([]);
  await api.dispose();
});
