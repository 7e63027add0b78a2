// One visit, photographed screen by screen for README (docs/screens/*.png): the
// patient on a phone, the clinician on a laptop.
import { expect, test } from '@playwright/test';
import { clinician, hydrated, signIn } from '../tests/fixtures';
import { apiVisit, passDeviceCheck } from '../tests/visit-fixtures';

const out = (name: string) => `../docs/screens/${name}.png`;
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

test('every screen of a visit', async ({ browser }) => {
  const visit = await apiVisit('Sam Rivera');
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await signIn(desk, clinician.email, clinician.password);
  await expect(desk.getByTestId('schedule')).toBeVisible();
  await hydrated(desk);
  await desk.screenshot({ path: out('schedule') });

  await desk.goto(`/visits/${visit.meeting.id}`);
  await hydrated(desk);
  await expect(desk.getByTestId('call-dock').locator('.call-state')).toContainText('Connected', { timeout: 20_000 });

  const patient = await (await browser.newContext(phone)).newPage();
  await patient.goto(`/visit#${visit.link}`);
  await hydrated(patient);
  await expect(patient.getByTestId('visit-continue')).toBeEnabled();
  await patient.screenshot({ path: out('patient-link') });
  await patient.getByTestId('visit-continue').click();
  await expect.poll(() => patient.getByTestId('device-preview').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 10_000 }).toBeGreaterThan(0);
  await expect(patient.getByTestId('check-connection')).toContainText('good');
  await patient.screenshot({ path: out('patient-device-check'), fullPage: true });
  await passDeviceCheck(patient);
  await expect(patient.getByTestId('visit-waiting')).toBeVisible();
  await patient.screenshot({ path: out('patient-waiting-room'), fullPage: true });

  const row = desk.getByTestId('participant').filter({ hasText: 'Sam Rivera' });
  await expect(row.getByTestId('device-check-result')).toBeVisible();
  await desk.screenshot({ path: out('clinician-waiting-room'), fullPage: true });
  await row.getByTestId('admit').click();
  await expect(patient.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  const remote = desk.getByTestId('call-dock').locator('figure.call-tile[data-source="camera"] video');
  await expect.poll(() => remote.evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 }).toBeGreaterThan(0);
  await desk.getByLabel('Subjective').fill('Itchy rash on the forearm for three days.');
  await desk.screenshot({ path: out('clinician-call') });
  await expect.poll(() => patient.locator('.call-stage figure.call-tile[data-source="camera"] video').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 }).toBeGreaterThan(0);
  await patient.screenshot({ path: out('patient-call'), fullPage: true });

  await desk.getByTestId('call-minimize').click();
  await desk.getByRole('link', { name: 'Patients' }).click();
  await expect(desk).toHaveURL(/\/patients$/);
  await desk.screenshot({ path: out('clinician-picture-in-picture') });

  await desk.getByTestId('call-expand').click();
  await desk.getByTestId('end-visit').click();
  await expect(patient.getByTestId('visit-ended')).toBeVisible({ timeout: 30_000 });
  await patient.screenshot({ path: out('patient-visit-ended') });
});
