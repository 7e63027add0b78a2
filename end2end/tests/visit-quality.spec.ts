// The visit's quality bar: no axe (WCAG 2.2 AA) violations on the link page, the device
// check, the waiting room, the call and the schedule; the patient's journey on a phone;
// a blocked camera explained; a rejection with its reason.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { clinician, hydrated, signIn } from './fixtures';
import { apiVisit, passDeviceCheck, waitInWaitingRoom } from './visit-fixtures';

async function expectNoAxeViolations(page: Page, screen: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(results.passes.length, `axe ran its rules on ${screen}`).toBeGreaterThan(10);
  expect(summary, `axe on ${screen}`).toEqual([]);
}

test('the patient pages, the call and the schedule have no accessibility violations', async ({ page }) => {
  const { api, auth, meeting, patientId, link } = await apiVisit('Robin Okafor');
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await expect(page.getByTestId('visit-details')).toBeVisible();
  await expectNoAxeViolations(page, 'the link page');
  await page.getByTestId('visit-continue').click();
  await expect(page.getByTestId('device-check')).toBeVisible();
  await expect(page.getByTestId('check-connection')).toContainText('good');
  await expectNoAxeViolations(page, 'the device check');
  await passDeviceCheck(page);
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await expectNoAxeViolations(page, 'the waiting room');
  await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  await expect(page.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('.call-stage')).toHaveAttribute('data-state', 'Connected');
  await expectNoAxeViolations(page, 'the call');
  await api.dispose();

  const staff = await page.context().browser()!.newContext();
  const schedule = await staff.newPage();
  await signIn(schedule, clinician.email, clinician.password);
  await expect(schedule.getByTestId('schedule')).toBeVisible();
  await hydrated(schedule);
  await expectNoAxeViolations(schedule, 'the schedule');
  await staff.close();
});

test('on a phone the patient goes from link to waiting room with touch targets of 44 px', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const { api, link } = await apiVisit('Kai Lindqvist');
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').tap();
  await expect(page.getByTestId('device-check')).toBeVisible();
  for (const id of ['join-waiting', 'camera-picker', 'mic-picker']) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box.height, id).toBeGreaterThanOrEqual(44);
    expect(box.x + box.width, `${id} fits the screen`).toBeLessThanOrEqual(390);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await expect.poll(() => page.getByTestId('device-preview').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 10_000 }).toBeGreaterThan(0);
  await page.getByTestId('join-waiting').tap();
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await context.close();
  await api.dispose();
});

test('a blocked camera is explained in plain words, and Try again works once allowed', async ({ browser }) => {
  const context = await browser.newContext();
  // The browser's "Block" answer, as getUserMedia gives it; lifted by the test later.
  await context.addInitScript(() => {
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    (window as any).__blocked = true;
    navigator.mediaDevices.getUserMedia = (constraints) =>
      (window as any).__blocked ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : real(constraints);
  });
  const page = await context.newPage();
  const { api, link } = await apiVisit('Noor Haddad');
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').click();
  await expect(page.getByTestId('device-error')).toContainText('blocking the camera and microphone');
  await expect(page.getByTestId('device-error')).toContainText('Allow');
  await page.evaluate(() => { (window as any).__blocked = false; });
  await page.getByTestId('device-error').getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('device-error')).toHaveCount(0);
  await expect.poll(() => page.getByTestId('device-preview').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 10_000 }).toBeGreaterThan(0);
  await context.close();
  await api.dispose();
});

test('the device check stays on screen across waiting-room heartbeats, measuring the link both ways', async ({ page }) => {
  const { api, link } = await apiVisit('Ellis Moreau');
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').click();
  await expect(page.getByTestId('check-connection')).toHaveText(/^Connection to the clinic: good \(\d+ ms; about \d+ [Mk]bit\/s down and \d+ [Mk]bit\/s up\)\.$/);
  await expect(page.getByTestId('check-video')).toHaveText('Video connection: direct. Good for video.', { timeout: 15_000 });
  // The same preview element after a heartbeat (every 5 s): nothing was torn down.
  await page.getByTestId('device-preview').evaluate((v) => v.setAttribute('data-kept', 'yes'));
  await page.waitForTimeout(6_000);
  await expect(page.getByTestId('device-preview')).toHaveAttribute('data-kept', 'yes');
  await api.dispose();
});

test('a rejected patient sees the clinician\'s reason and leaves the call', async ({ page }) => {
  const { api, auth, meeting, patientId, link } = await apiVisit('Mira Santos');
  await waitInWaitingRoom(page, link);
  const rejected = await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/reject`, {
    headers: auth,
    data: { reason: 'Please call the front desk to reschedule.' },
  });
  expect(rejected.status()).toBeLessThan(300);
  await expect(page.getByTestId('visit-rejected')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('visit-rejection-reason')).toHaveText('Please call the front desk to reschedule.');
  await expect(page.locator('.call-stage')).toHaveCount(0);
  await api.dispose();
});
