// Accounts in the portal: an admin invites a colleague, who opens the emailed link
// (here: the dev outbox), chooses a password, signs in, and later changes it.
import { expect, request, test } from '@playwright/test';
import { baseURL } from './rtc-fixtures';
import { hydrated, signIn } from './fixtures';

const admin = {
  email: 'admin@demo.bedside.test',
  password: process.env.BEDSIDE_DEMO_PASSWORD ?? 'bedside-demo-password',
};

test('an invited colleague joins from the emailed link, signs in and changes the password', async ({ page }) => {
  const email = `colleague-${Date.now()}@demo.bedside.test`;
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: admin });
  const { access_token } = await login.json();
  const auth = { authorization: `Bearer ${access_token}` };
  const invited = await api.post('/api/v1/users', { headers: auth, data: { email, name: 'Dr. Sam Okafor' } });
  expect(invited.status()).toBe(202);
  const outbox = await (await api.get('/api/v1/dev/outbox', { headers: auth })).json();
  const body: string = outbox.find((m: any) => m.recipient === email).body;
  const link = body.match(/(http\S+\/invitation#\S+)/)![1];

  await page.goto(link.replace(/^http:\/\/[^/]+/, baseURL));
  await hydrated(page);
  await page.getByLabel('New password').fill('password1234');
  await page.getByRole('button', { name: 'Create my account' }).click();
  await expect(page.getByTestId('password-error')).toContainText('too easy to guess');
  await page.getByLabel('New password').fill('copper meadow violin harbor');
  await page.getByRole('button', { name: 'Create my account' }).click();
  await expect(page.getByTestId('invitation-accepted')).toContainText(email);

  await signIn(page, email, 'copper meadow violin harbor');
  await expect(page.getByTestId('current-user')).toHaveText('Dr. Sam Okafor');
  await page.getByTestId('nav-account').click();
  await expect(page.getByRole('heading', { name: 'Change password' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Current password').fill('copper meadow violin harbor');
  await page.getByLabel('New password').fill('qwertyuiop123');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('new_password-error')).toContainText('too easy to guess');
  await page.getByLabel('New password').fill('saffron glacier pocket ladder');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();

  const relogin = await api.post('/api/v1/auth/login', { data: { email, password: 'saffron glacier pocket ladder' } });
  expect(relogin.status()).toBe(200);
  await api.dispose();
});
