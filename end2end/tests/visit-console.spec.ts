// The clinician's side in the portal: "Start visit" on the schedule opens the visit
// console; "Send link" emails the patient; the patient's arrival in the waiting room
// is pushed to the console (server-sent events, no reload); "Admit" lets them in;
// "End visit" closes it for everyone.
import { expect, request, test } from '@playwright/test';
import { baseURL } from './rtc-fixtures';
import { clinician, hydrated, signIn } from './fixtures';
import { passDeviceCheck } from './visit-fixtures';

test('a clinician starts a visit, sends the link, sees the patient arrive, admits them and ends the visit', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByTestId('schedule')).toBeVisible();
  await hydrated(page);
  const card = page.getByTestId('appointment').filter({ hasText: 'Jordan Patel' }).first();
  await card.getByTestId('start-visit').click();
  await expect(page).toHaveURL(/\/visits\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('visit-status')).toHaveText('Not started');
  const patientRow = page.getByTestId('participant').filter({ hasText: 'Jordan Patel' });
  await expect(patientRow.getByTestId('participant-state')).toContainText('Invited');

  await hydrated(page);
  await page.getByTestId('link-channel').selectOption('email');
  await page.getByTestId('send-link').click();
  await expect(page.getByTestId('link-sent')).toBeVisible();
  // Texting needs the patient's agreement, ticked by the clinician.
  await page.getByTestId('link-channel').selectOption('sms');
  await page.getByTestId('send-link').click();
  await expect(page.getByTestId('link-error')).toBeVisible();

  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const outbox = await (await api.get('/api/v1/dev/outbox', { headers: auth })).json();
  const link = outbox.find((m: any) => m.recipient === 'jordan.patel@example.test').body.match(/\/visit#(\S+)/)[1];
  await api.dispose();

  const patient = await (await browser.newContext()).newPage();
  await patient.goto(`/visit#${link}`);
  await hydrated(patient);
  await patient.getByTestId('visit-continue').click();
  await passDeviceCheck(patient);
  await expect(patient.getByTestId('visit-waiting')).toBeVisible();

  // Pushed to the console: no reload here.
  await expect(patientRow.getByTestId('participant-state')).toContainText('Waiting');
  // What the patient's device check found, beside their name.
  await expect(patientRow.getByTestId('device-check-result')).toHaveText(/^Camera working · Microphone working · Connection \d+ ms, \d+ [Mk]bit\/s down, \d+ [Mk]bit\/s up, direct$/);
  // A quiet check-in both ways while the patient waits.
  await hydrated(page);
  await page.getByTestId('chat-input').fill('Please have your medication list ready.');
  await page.getByTestId('chat-send').click();
  await expect(patient.getByTestId('chat-message').last()).toContainText('Please have your medication list ready.', { timeout: 15_000 });
  await patient.getByTestId('chat-input').fill('I have it here.');
  await patient.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-message').last()).toContainText('I have it here.');

  const admitAt = await page.evaluate(() => performance.now());
  await patientRow.getByTestId('admit').click();
  // The patient is connected to the call while waiting, so admission puts them in it.
  await expect(patientRow.getByTestId('participant-state')).toContainText(/Admitted|In call/);
  await expect(patient.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });

  // Both see and hear each other: frames decoded, audio bytes growing, both ways.
  const dock = page.getByTestId('call-dock');
  const remoteVideo = (scope: typeof dock) => scope.locator('figure.call-tile[data-source="camera"] video');
  await expect.poll(() => remoteVideo(dock).evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect.poll(() => remoteVideo(patient.locator('.call-stage')).evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 }).toBeGreaterThan(0);
  // The console had receive sections ready: the patient's tracks were bound to them
  // at once (Bedside's open sections), and the server never had to ask for more.
  const marksSinceAdmit = (name: string) => page.evaluate(([n, t]) => performance.getEntriesByName(`bedside:${n}`).filter((m) => m.startTime > (t as number)).length, [name, admitAt] as const);
  expect(await marksSinceAdmit('sections-assigned')).toBeGreaterThan(0);
  expect(await marksSinceAdmit('sections-requested')).toBe(0);
  await expectAudioGrowing(dock);
  await expectAudioGrowing(patient.locator('.call-stage'));
  await expect(dock.getByTestId('call-quality')).toHaveAttribute('data-quality', /excellent|good/);
  // The server grades the patient's connection for the clinician (ConnectionQualityUpdate):
  // good on loopback, so their tile carries no warning.
  const patientTile = dock.locator('figure.call-tile[data-source="camera"]');
  await expect(patientTile).toHaveAttribute('data-link', /excellent|good/, { timeout: 10_000 });
  await expect(patientTile.getByTestId('peer-link-note')).toHaveCount(0);
  // And the clinician's for the patient, on the patient's own page.
  const clinicianTile = patient.locator('.call-stage figure.call-tile[data-source="camera"]');
  await expect(clinicianTile).toHaveAttribute('data-link', /excellent|good/, { timeout: 10_000 });
  // The patient's video plays, and a pushed event (their chat message, which the
  // console re-reads the meeting for) neither pauses it nor takes it off the page.
  await expect.poll(() => remoteVideo(dock).evaluate((v: HTMLVideoElement) => !v.paused)).toBe(true);
  await remoteVideo(dock).evaluate((v: HTMLVideoElement) => {
    (window as any).__pauses = 0;
    v.addEventListener('pause', () => (window as any).__pauses++);
  });
  await patient.getByTestId('chat-input').fill('Can you see me now?');
  await patient.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-message').last()).toContainText('Can you see me now?');
  await expectVideoAdvancing(remoteVideo(dock));
  expect(await page.evaluate(() => (window as any).__pauses)).toBe(0);

  // Minimized to picture-in-picture, the call keeps flowing on another portal page.
  await dock.getByTestId('call-minimize').click();
  await expect(dock).toHaveAttribute('data-mini', 'true');
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  await expect(dock).toHaveAttribute('data-mini', 'true');
  await expectVideoAdvancing(remoteVideo(dock));
  // Dragged somewhere else, it stays there after a reload of the page.
  const bar = dock.locator('.call-dock-bar');
  const box = (await bar.boundingBox())!;
  await page.mouse.move(box.x + 20, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(200, 300, { steps: 5 });
  await page.mouse.up();
  expect(Math.round((await dock.boundingBox())!.x)).toBe(180);
  expect(await page.evaluate(() => localStorage.getItem('bedside.call.position'))).toBe('180,300');
  await dock.getByTestId('call-expand').click();
  await expect(page).toHaveURL(/\/visits\//);
  await expect(dock).toHaveAttribute('data-mini', 'false');

  // The SOAP note saves while typing and survives a reload.
  await page.getByTestId('soap-subjective').fill('Follow-up; feels better.');
  await page.getByTestId('soap-plan').fill('Continue current dose; recheck in 3 months.');
  await expect(page.getByTestId('soap-state')).toHaveText('Draft saved');
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('soap-plan')).toHaveValue('Continue current dose; recheck in 3 months.');
  // The reloaded console joins the call again.
  await expect(page.getByTestId('call-dock').locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });

  const consoleUrl = page.url();
  await page.getByTestId('end-visit').click();
  // Ending returns to the schedule and leaves the call; the patient sees the end.
  await expect(page.getByTestId('schedule')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('call-dock')).toHaveCount(0);
  await expect(patient.getByTestId('visit-ended')).toBeVisible({ timeout: 15_000 });
  await patient.context().close();
  // Filed on the chart with the visit's end, and read-only from then on.
  await page.goto(consoleUrl);
  await hydrated(page);
  await expect(page.getByTestId('visit-status')).toHaveText('Ended');
  await expect(page.getByTestId('soap-state')).toHaveText("Filed on the patient's chart");
  await expect(page.getByTestId('soap-plan')).toBeDisabled();

  // The record: the appointment is completed, and the audit trail tells the journey in
  // order (ids only in it, never names).
  const records = await request.newContext({ baseURL });
  const signedIn = await records.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const bearer = { authorization: `Bearer ${(await signedIn.json()).access_token}` };
  const meetingId = consoleUrl.split('/').pop()!;
  const meeting = await (await records.get(`/api/v1/meetings/${meetingId}`, { headers: bearer })).json();
  const appointment = await (await records.get(`/api/v1/appointments/${meeting.appointment_id}`, { headers: bearer })).json();
  expect(appointment.status).toBe('completed');
  const trail = await records.get(`/api/v1/meetings/${meetingId}/audit`, { headers: bearer });
  expect(trail.status()).toBe(200);
  const body = await trail.json();
  const actions: string[] = (body.events ?? body).map((e: any) => e.action);
  const journey = ['meeting.invitation_sent', 'meeting.link_redeemed', 'meeting.patient_waiting', 'meeting.participant_admitted', 'meeting.ended'];
  const positions = journey.map((a) => actions.indexOf(a));
  expect(positions.every((p) => p >= 0), `audit actions: ${actions.join(', ')}`).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  expect(JSON.stringify(body)).not.toContain('Jordan');
  await records.dispose();
});

/** Audio bytes received on the first remote audio track grow. */
async function expectAudioGrowing(scope: import('@playwright/test').Locator) {
  const audio = scope.locator('audio').first();
  const bytes = async () => Number((await audio.getAttribute('data-received')) ?? 0);
  await expect.poll(bytes, { timeout: 20_000 }).toBeGreaterThan(0);
  const before = await bytes();
  await expect.poll(bytes, { timeout: 10_000 }).toBeGreaterThan(before);
}

/** New frames keep arriving in a video element. */
async function expectVideoAdvancing(video: import('@playwright/test').Locator) {
  const frames = () => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
  const before = await frames();
  await expect.poll(frames, { timeout: 20_000 }).toBeGreaterThan(before);
}
