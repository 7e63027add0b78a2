import { expect, test } from '@playwright/test';
import { clinician, hydrated, signIn } from './fixtures';

test('signing in as the demo clinician shows today\'s appointments', async ({ page }) => {
  await signIn(page, clinician.email, clinician.password);

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText(clinician.name);
  const cards = page.getByTestId('appointment');
  await expect(cards.first()).toBeVisible();
  await expect(page.getByTestId('appointment-patient')).toContainText(['Jordan Patel', 'Maria Gonzalez', 'Maria Gonzalez']);
  await expect(page.getByTestId('start-visit').first()).toBeVisible();
});

test('navigation between pages happens in the browser, without full reloads', async ({ page }) => {
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByTestId('schedule')).toBeVisible();
  await hydrated(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));

  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible();
  await expect(page.getByTestId('patient-list')).toContainText('Jordan Patel');
  await page.getByRole('link', { name: 'Today' }).click();
  await expect(page.getByTestId('schedule')).toBeVisible();

  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test('a clinician books a video visit for a new patient and sees it on the schedule, then signs out', async ({ page }) => {
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByTestId('schedule')).toBeVisible();

  await page.getByTestId('nav-new-appointment').click();
  await expect(page.getByRole('heading', { name: 'New appointment' })).toBeVisible();
  await hydrated(page);
  await page.getByTestId('patient-select').selectOption('new');
  await page.getByLabel('Full name').fill('Quinn Harper');
  await page.getByLabel('Mobile phone').fill('+1 555 010 7788');
  await page.getByLabel('Time').fill('16:45');
  await page.getByLabel('Type').selectOption('telehealth');
  await page.getByLabel('Reason for visit').fill('Rash follow-up');
  await page.getByTestId('save-appointment').click();

  const card = page.getByTestId('appointment').filter({ hasText: 'Quinn Harper' });
  await expect(card).toBeVisible();
  await expect(card).toContainText('16:45');
  await expect(card).toContainText('Rash follow-up');
  await expect(card.getByTestId('start-visit')).toBeVisible();

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong password shows a clear error and stays on the sign-in page', async ({ page }) => {
  await signIn(page, clinician.email, 'Not-The-Demo-Password-4417');

  await expect(page.getByTestId('login-error')).toContainText('email or password is incorrect');
  await expect(page).toHaveURL(/\/login$/);
});

test('a booking with a missing patient name explains what to fix', async ({ page }) => {
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByTestId('schedule')).toBeVisible();
  await page.goto('/appointments/new');
  await hydrated(page);
  await page.getByTestId('save-appointment').click();
  await expect(page.getByText('Choose the patient.')).toBeVisible();

  await page.getByTestId('patient-select').selectOption('new');
  await page.getByTestId('save-appointment').click();

  await expect(page.getByTestId('form-error')).toContainText('correct the highlighted fields');
  await expect(page.getByText('This field is required.')).toBeVisible();
});
