// The call's device menu: a clinician with three cameras and several microphones
// switches both mid-call, and the patient keeps seeing and hearing them. Chromium's
// fake capture offers more cameras when asked (`device-count=3`). Its second one,
// `fake_device_1`, is a Y16 depth camera whose frames WebRTC cannot encode (it sends
// nothing even on a plain loopback call), so the test switches to `fake_device_2`.
import { type Page, chromium, expect, test } from '@playwright/test';
import { apiVisit, openConsole, patientWaits } from './visit-fixtures';

/** Frames the page has decoded so far on its remote camera tile. */
async function framesDecoded(page: Page): Promise<number> {
  return page.locator('figure.call-tile[data-source="camera"] video').first()
    .evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
}

/** The remote camera plays, and keeps decoding new frames. */
async function remoteVideoFlows(page: Page) {
  await expect.poll(() => framesDecoded(page), { timeout: 20_000 }).toBeGreaterThan(0);
  const before = await framesDecoded(page);
  await expect.poll(() => framesDecoded(page), { timeout: 15_000 }).toBeGreaterThan(before + 10);
}

test('a clinician switches camera and microphone mid-call, and the patient keeps seeing and hearing them', async ({ browser }) => {
  test.setTimeout(120_000);
  const launch = test.info().project.use.launchOptions ?? {};
  const twoCameras = await chromium.launch({
    ...launch,
    args: (launch.args ?? []).map((a) => (a === '--use-fake-device-for-media-stream' ? `${a}=device-count=3` : a)),
  });
  const visit = await apiVisit('Riley Moss');
  const patient = await patientWaits(browser, visit.link);
  const clinician = await (await twoCameras.newContext()).newPage();

  await openConsole(clinician, visit.meeting.id);
  await clinician.getByTestId('participant').filter({ hasText: 'Riley Moss' }).getByTestId('admit').click();
  await expect(patient.getByTestId('visit-admitted')).toBeVisible();
  await remoteVideoFlows(patient);

  const dock = clinician.getByTestId('call-dock');
  await dock.getByTestId('call-devices').click();
  await expect(dock.getByTestId('call-devices')).toHaveAttribute('aria-expanded', 'true');
  const cameras = dock.getByTestId('call-camera-picker');
  await expect(cameras.locator('option')).toHaveCount(3);
  const other = await cameras.locator('option', { hasText: 'fake_device_2' }).getAttribute('value');
  expect(other).not.toBe(await cameras.inputValue());
  await cameras.selectOption(other!);

  // The clinician's own view shows the chosen camera, and the patient sees it on the
  // same track.
  const selfCamera = () => clinician.locator('.self-view video').evaluate((v: HTMLVideoElement) =>
    (v.srcObject as MediaStream | null)?.getVideoTracks()[0]?.getSettings().deviceId ?? '');
  await expect.poll(selfCamera, { timeout: 15_000 }).toBe(other);
  await expect(patient.locator('figure.call-tile[data-source="camera"]')).toHaveCount(1);
  await remoteVideoFlows(patient);

  // The microphone switches in place; the patient's audio keeps arriving.
  const mics = dock.getByTestId('call-mic-picker');
  const micInUse = await mics.inputValue();
  const otherMic = await mics.locator('option').evaluateAll((options, used) =>
    options.map((o) => (o as HTMLOptionElement).value).find((v) => v !== used && v !== 'default' && v !== 'communications'), micInUse);
  expect(otherMic).toBeTruthy();
  await mics.selectOption(otherMic!);
  await expect(dock.locator('[role="alert"]')).toHaveCount(0);
  const audio = patient.locator('audio').first();
  const received = async () => Number((await audio.getAttribute('data-received')) ?? 0);
  const bytes = await received();
  await expect.poll(received, { timeout: 15_000 }).toBeGreaterThan(bytes + 1000);

  await twoCameras.close();
  await patient.context().close();
  await visit.api.dispose();
});
