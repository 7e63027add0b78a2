// A telehealth visit set up through the API as the demo clinician: a new patient with
// an email, a video appointment in ten minutes, its meeting, and the patient's one-tap
// link from the dev outbox.
import { type APIRequestContext, type Browser, type Page, expect, request } from '@playwright/test';
import { baseURL } from './rtc-fixtures';
import { clinician, hydrated, signIn } from './fixtures';

export type ApiVisit = {
  api: APIRequestContext;
  auth: { authorization: string };
  meeting: any;
  patientId: string;
  link: string;
  /** The patient's state as the clinician's API reports it. */
  patientState: () => Promise<string>;
};

export async function apiVisit(patientName: string): Promise<ApiVisit> {
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const email = `${patientName.split(' ')[0].toLowerCase()}-${Date.now()}@example.test`;
  const patient = await (await api.post('/api/v1/patients', { headers: auth, data: { name: patientName, email } })).json();
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
  const patientState = async () => {
    const body = await (await api.get(`/api/v1/meetings/${meeting.id}`, { headers: auth })).json();
    return body.participants.find((p: any) => p.id === patientId).state;
  };
  return { api, auth, meeting, patientId, link, patientState };
}

/** The device check after "Continue": the camera preview plays, the server answers,
 * then "Join the waiting room". */
export async function passDeviceCheck(page: Page) {
  await expect(page.getByTestId('device-check')).toBeVisible();
  await expect.poll(() => page.getByTestId('device-preview').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 10_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('check-connection')).toContainText('good');
  // The check joined the call, hidden: the path to the media server is proven.
  await expect(page.getByTestId('check-video')).toHaveText('Video connection: direct. Good for video.', { timeout: 15_000 });
  await page.getByTestId('join-waiting').click();
}

/** The patient opens `link`, passes the check and waits, connected to the media server. */
export async function waitInWaitingRoom(page: Page, link: string) {
  await page.goto(`/visit#${link}`);
  await hydrated(page);
  await page.getByTestId('visit-continue').click();
  await passDeviceCheck(page);
  await expect(page.getByTestId('visit-waiting')).toBeVisible();
  await expect(page.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });
}

/** The clinician signs in and opens the visit's console, whose call connects. */
export async function openConsole(page: Page, meetingId: string) {
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByTestId('schedule')).toBeVisible();
  await page.goto(`/visits/${meetingId}`);
  await hydrated(page);
  await expect(page.getByTestId('call-dock').locator('.call-state')).toContainText('Connected', { timeout: 20_000 });
}

/** A patient in a browser of their own opens the link, passes the check and waits. */
export async function patientWaits(browser: Browser, link: string): Promise<Page> {
  const patient = await (await browser.newContext()).newPage();
  await patient.goto(`/visit#${link}`);
  await hydrated(patient);
  await patient.getByTestId('visit-continue').click();
  await passDeviceCheck(patient);
  await expect(patient.getByTestId('visit-waiting')).toBeVisible();
  return patient;
}
