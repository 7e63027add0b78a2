// A visit end to end through the meetings API, with LiveKit's own browser SDK on both
// sides (the visit UI is a later issue): the clinician creates the meeting and joins;
// the patient redeems the emailed link and joins; the embedded SFU's webhook marks them
// waiting; nothing private flows either way; the clinician admits; media flows both ways
// on the same peer connection, with no second join; the audit trail shows every step in
// order and its hash chain verifies; ending the meeting disconnects the patient.
import { execSync } from 'node:child_process';
import { expect, request, test } from '@playwright/test';
import { baseURL, closeParticipants, inbound, participantPage, pageState } from './rtc-fixtures';
import { clinician } from './fixtures';

test.afterEach(closeParticipants);

test('a patient waits unseen, is admitted live, and the visit ends for everyone', async ({ browser }) => {
  const api = await request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { email: clinician.email, password: clinician.password } });
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
  const me = await (await api.get('/api/v1/me', { headers: auth })).json();
  const patientRecord = await (await api.post('/api/v1/patients', { headers: auth, data: { name: 'Robin Castillo', email: `robin-${Date.now()}@example.test` } })).json();
  const appointment = await (
    await api.post('/api/v1/appointments', {
      headers: auth,
      data: { patient_id: patientRecord.id, starts_at: new Date(Date.now() + 5 * 60_000).toISOString(), duration_minutes: 30, modality: 'telehealth' },
    })
  ).json();

  // The clinician starts the visit and joins the room.
  const created = await api.post('/api/v1/meetings', { headers: auth, data: { appointment_id: appointment.id } });
  expect(created.status()).toBe(201);
  const meeting = await created.json();
  const patientId = meeting.participants.find((p: any) => p.role === 'patient').id;
  const doctor = await participantPage(browser);
  await doctor.evaluate(([u, t]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: true }), [meeting.livekit_url, meeting.token]);

  // The link goes out; the patient's browser redeems it and joins, hidden.
  expect((await api.post(`/api/v1/meetings/${meeting.id}/invite`, { headers: auth, data: { participant_id: patientId, channel: 'email' } })).status()).toBe(202);
  const outbox = await (await api.get('/api/v1/dev/outbox', { headers: auth })).json();
  const link = outbox.find((m: any) => m.recipient === patientRecord.email).body.match(/\/visit#(\S+)/)[1];
  const patient = await participantPage(browser);
  const patientApi = patient.context().request;
  expect((await patientApi.post(`${baseURL}/api/v1/calls/generate-token`, { data: { link_token: link } })).status()).toBe(201);
  const waitingToken = await (await patientApi.post(`${baseURL}/api/v1/livekit/token`, { data: { meeting_id: meeting.id } })).json();
  expect(waitingToken.state).toBe('invited');
  await patient.evaluate(([u, t]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: false }), [waitingToken.livekit_url, waitingToken.token]);
  expect(await patient.evaluate(() => (window as any).bedside.markPeerConnection())).toBe(true);

  const stateOf = async () => {
    const body = await (await api.get(`/api/v1/meetings/${meeting.id}`, { headers: auth })).json();
    return body.participants.find((p: any) => p.id === patientId).state;
  };
  await expect.poll(stateOf).toBe('waiting');
  // Nothing private flows: the patient receives none of the clinician's media, and the
  // clinician's room does not show the patient.
  await doctor.waitForTimeout(1500);
  expect((await inbound(patient, meeting.identity, 'video')).bytes).toBe(0);
  expect((await pageState(patient)).events.filter((e) => e.startsWith('subscribed:'))).toEqual([]);
  expect(await doctor.evaluate(() => (window as any).bedside.remoteIdentities())).not.toContain(patientId);
  expect(await patient.evaluate(() => (window as any).bedside.canPublish())).toBe(false);

  // Admission: the patient's rights change live.
  const admitted = await api.post(`/api/v1/meetings/${meeting.id}/participants/${patientId}/admit`, { headers: auth, data: {} });
  expect((await admitted.json()).live).toBe(true);
  await expect.poll(() => patient.evaluate(() => (window as any).bedside.canPublish())).toBe(true);
  await patient.evaluate(() => (window as any).bedside.publish());
  await expect.poll(() => doctor.evaluate(() => (window as any).bedside.remoteIdentities())).toContain(patientId);
  await expect.poll(() => doctor.evaluate((id) => (window as any).bedside.videoWidth(id), patientId)).toBeGreaterThan(0);
  const clinicianIdentity = meeting.identity;
  await expect.poll(() => patient.evaluate((id) => (window as any).bedside.videoWidth(id), clinicianIdentity)).toBeGreaterThan(0);
  await expect.poll(async () => (await inbound(doctor, patientId, 'audio')).packets).toBeGreaterThan(0);
  // No reconnect, no second join: the same peer connection carries it all.
  expect(await patient.evaluate(() => (window as any).bedside.samePeerConnection())).toBe(true);
  const patientEvents = (await pageState(patient)).events;
  expect(patientEvents).not.toContain('reconnecting');
  expect(patientEvents).toContain('permissions-changed');
  await expect.poll(async () => (await (await api.get(`/api/v1/meetings/${meeting.id}`, { headers: auth })).json()).status).toBe('in_call');

  // Ending the meeting disconnects the patient; the link no longer opens the call.
  expect((await api.delete(`/api/v1/meetings/${meeting.id}`, { headers: auth })).status()).toBe(204);
  await expect.poll(async () => (await pageState(patient)).events.some((e) => e.startsWith('disconnected'))).toBe(true);
  expect((await patientApi.post(`${baseURL}/api/v1/calls/generate-token`, { data: { link_token: link } })).status()).toBe(401);

  const trail = await (await api.get(`/api/v1/meetings/${meeting.id}/audit`, { headers: auth })).json();
  const actions: string[] = trail.map((e: any) => e.action);
  const order = ['meeting.created', 'meeting.invitation_sent', 'meeting.link_redeemed', 'meeting.patient_waiting', 'meeting.participant_admitted', 'meeting.ended'];
  const positions = order.map((a) => actions.indexOf(a));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  const verdict = execSync(`"${process.env.CARGO_TARGET_DIR}/debug/server" audit-verify ${me.workspace_id}`, {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL ?? '', RUST_LOG: 'error' },
  }).toString();
  expect(verdict).toContain('intact');
  await api.dispose();
});
