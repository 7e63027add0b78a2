import { expect, Page } from '@playwright/test';

/** The demo clinician seeded in dev (see server/src/seed.rs). */
export const clinician = {
  email: 'clinician@demo.bedside.test',
  password: process.env.BEDSIDE_DEMO_PASSWORD ?? 'bedside-demo-password',
  name: 'Dr. Dana Reyes',
};

/** Waits until the wasm bundle has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

/** Signs in through the sign-in form. */
export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
