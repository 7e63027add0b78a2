// The clinician's whole visit by keyboard alone: Tab to reach each control, Enter or
// Space to use it, the call's shortcuts (Alt+M microphone, Alt+P picture-in-picture).
// Nothing on the clinician's side is clicked; the patient uses their phone as usual.
import { type Locator, type Page, expect, test } from '@playwright/test';
import { clinician, hydrated } from './fixtures';
import { apiVisit, patientWaits } from './visit-fixtures';

/** Presses Tab until `target` has the focus (at most 60 times): it is reachable in the
 * page's tab order, not only by a pointer. */
async function tabTo(page: Page, target: Locator) {
  await expect(target).toBeVisible();
  for (let n = 0; n < 60; n++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`not reachable by Tab: ${target}`);
}

test('a clinician runs a whole visit by keyboard: sign in, start, admit, mute, minimize, chat, end', async ({ page, browser }) => {
  test.setTimeout(150_000);
  // A name of its own: the portal test books a "Quinn Harper" too, and the schedule's
  // order between the two depends on the time of day.
  const visit = await apiVisit('Quinn Harper Keyes');
  await page.goto('/login');
  await hydrated(page);
  await tabTo(page, page.getByLabel('Email'));
  await page.keyboard.type(clinician.email);
  await tabTo(page, page.getByLabel('Password'));
  await page.keyboard.type(clinician.password);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('schedule')).toBeVisible();
  await hydrated(page);

  const card = page.getByTestId('appointment').filter({ hasText: 'Quinn Harper Keyes' });
  await tabTo(page, card.getByTestId('start-visit'));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/visits/${visit.meeting.id}$`));
  await hydrated(page);
  const dock = page.getByTestId('call-dock');
  await expect(dock.locator('.call-state')).toContainText('Connected', { timeout: 20_000 });

  const patient = await patientWaits(browser, visit.link);

  const row = page.getByTestId('participant').filter({ hasText: 'Quinn Harper' });
  await expect(row.getByTestId('participant-state')).toContainText('Waiting');
  await tabTo(page, row.getByTestId('admit'));
  await page.keyboard.press('Enter');
  await expect(patient.getByTestId('visit-admitted')).toBeVisible({ timeout: 30_000 });
  await expect(dock.locator('figure.call-tile[data-source="camera"]')).toHaveCount(1, { timeout: 20_000 });

  // The microphone by shortcut, and by Tab + Space on its button.
  const mic = dock.getByTestId('call-mic');
  await page.keyboard.press('Alt+KeyM');
  await expect(mic).toHaveAttribute('aria-pressed', 'true');
  await tabTo(page, mic);
  await page.keyboard.press('Space');
  await expect(mic).toHaveAttribute('aria-pressed', 'false');

  // Picture-in-picture and back.
  await page.keyboard.press('Alt+KeyP');
  await expect(dock).toHaveAttribute('data-mini', 'true');
  await page.keyboard.press('Alt+KeyP');
  await expect(dock).toHaveAttribute('data-mini', 'false');

  // A quiet check-in: type, Enter sends.
  await tabTo(page, page.getByTestId('chat-input'));
  await page.keyboard.type('Your results look good.');
  await page.keyboard.press('Enter');
  await expect(patient.getByTestId('chat-message').last()).toContainText('Your results look good.', { timeout: 15_000 });

  // End the visit for everyone: back on the schedule, the patient sees the end.
  await tabTo(page, page.getByTestId('end-visit'));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/$/);
  await expect(patient.getByTestId('visit-ended')).toBeVisible({ timeout: 30_000 });
  await patient.context().close();
});
