// The patient's page from the emailed link: who and when; nothing redeemed until
// "Continue"; the waiting room keeps the patient's place across a reload; admission
// shows at once; the end of the visit closes the page and the link.
import { expect, request, test } from '@playwright/test';
import { baseURL } from './rtc-fixtures';
import { clinician, hydrated } from './fixtures';

test('a patient opens the link, waits, is admitted, and the ended visit closes the link', async ({ page }) => {
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const email = `sam-${Date.now()}@example.test`;
  const patient = await (await api.post('/api/v1/patients', { headers: auth, data: { name: 'Sam Whitfield', email } })).json();
  const appointment = await (
    await api.post('/api/v1/appointments', {
      headers: auth,
      data: { patient_id: patient.id, starts_at: new Date(Date.now() + 10 * 60_000).toISOString(), duration_minutes: 20, modality: 'telehealth' },
    })
  ).json();
  const meeting = await (await api.post('/api/v1/meetings', { headers: auth, data: { appointment_id: appointment.id } })).json();
  const patientId = meeting.participants.find((p: any) => p.role === 'patient').id;
  await api.post(`/api/v1/meetings/${meeting.id}/invite`, { headers: auth, data: { participant_id: patientId, channel: 'email' } });
  const outbox = await (await api.get('/api/v1/dev/outbox', { headers: auth })).json();
  const link = outbox.find((m: any) => m.recipient === email).body.match(/\/visit#(\S+)/)[1];
  const stateOf = async () => {
    const body = await (await api.get(`/api/v1/meetings/${meeting.id}`, { headers: auth })).json();
    return body.participants.find((p: any) => p.id === patientId).state;
  };

  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await expect(page.getByTestId('visit-details')).toContainText('Dr. Dana Reyes');
  await expect(page.getByText('Hi Sam.')).toBeVisible();
  expect(await stateOf()).toBe('invited');

  await page.getByTestId('visit-continue').click();
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await expect.poll(stateOf).toBe('waiting');

  // A reload keeps the patient in the waiting room, with no second "Continue".
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await expect(page.getByTestId('visit-continue')).toHaveCount(0);

  await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  await expect(page.getByTestId('visit-admitted')).toBeVisible({ timeout: 15_000 });

  expect((await api.delete(`/api/v1/meetings/${meeting.id}`, { headers: auth })).status()).toBe(204);
  await expect(page.getByTestId('visit-ended')).toBeVisible({ timeout: 15_000 });
  await page.goto('/');
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await expect(page.getByTestId('visit-error')).toContainText('not valid');
  await api.dispose();
});

test('opening the link on a second device moves the visit there, and the first page says so', async ({ page, browser }) => {
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const email = `alex-${Date.now()}@example.test`;
  const patient = await (await api.post('/api/v1/patients', { headers: auth, data: { name: 'Alex Moreau', email } })).json();
  const appointment = await (
    await api.post('/api/v1/appointments', {
      headers: auth,
      data: { patient_id: patient.id, starts_at: new Date(Date.now() + 10 * 60_000).toISOString(), duration_minutes: 20, modality: 'telehealth' },
    })
  ).json();
  const meeting = await (await api.post('/api/v1/meetings', { headers: auth, data: { appointment_id: appointment.id } })).json();
  const patientId = meeting.participants.find((p: any) => p.role === 'patient').id;
  await api.post(`/api/v1/meetings/${meeting.id}/invite`, { headers: auth, data: { participant_id: patientId, channel: 'email' } });
  const outbox = await (await api.get('/api/v1/dev/outbox', { headers: auth })).json();
  const link = outbox.find((m: any) => m.recipient === email).body.match(/\/visit#(\S+)/)[1];

  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').click();
  await expect(page.getByTestId('visit-waiting')).toBeVisible();

  const phone = await (await browser.newContext()).newPage();
  await phone.goto(`/visit#${link}`);
  await hydrated(phone);
  await phone.getByTestId('visit-continue').click();
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
