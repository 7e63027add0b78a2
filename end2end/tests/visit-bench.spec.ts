// Benchmark, not a test: run by scripts/bench-visit (skipped in the test suite). Prints
// one JSON line, over two rounds of BENCH_VISITS visits each (default 20) on loopback:
// - `on_arrival`: the clinician admits the moment the patient shows up. It times the
//   patient's click on "Join the waiting room" → the clinician's first video frame on the
//   patient's screen (the patient's whole wait when nobody keeps them waiting), and the
//   Admit click → video both ways while the patient's page is still connecting.
// - `after_waiting`: the clinician admits a patient who has been in the waiting room for
//   BENCH_WAITING_MS (default 1500; in a clinic, minutes): the Admit click → the patient's
//   first video frame on the clinician's screen, and → the clinician's at the patient.
// No human clicks within milliseconds of a row appearing; the two rounds keep the cost of
// a page that is still connecting apart from the cost of admission itself.
import { expect, test } from '@playwright/test';
import { clinician, hydrated, signIn } from './fixtures';
import { apiVisit } from './visit-fixtures';


// With BENCH_TIMELINE=1: each page's peer connections are polled every 5 ms (which
// loads the machine, so it is off by default) and every visit prints when, after the
// Admit click, the patient's send section was negotiated, its first video bytes left,
// and the console's first bytes and frame arrived, beside the client's own marks
// (permission, AddTrack, TrackPublished, offer, answer): where the time goes.
const hookPcs = () => {
  const O = RTCPeerConnection; (window as any).__pcs = []; (window as any).__marks = {};
  (window as any).RTCPeerConnection = function (...a: any[]) { const pc = new (O as any)(...a); (window as any).__pcs.push(pc); return pc; };
  (window as any).RTCPeerConnection.prototype = O.prototype;
  const mark = (k: string) => { (window as any).__marks[k] ||= performance.timeOrigin + performance.now(); };
  // Main-thread tasks over 50 ms, as marks of their start (`longtask_<ms>`): what kept the
  // page from running the client's next step.
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) (window as any).__marks[`longtask_${Math.round(e.duration)}_${Math.round(e.startTime)}`] = performance.timeOrigin + e.startTime;
  }).observe({ entryTypes: ['longtask'] });
  setInterval(async () => {
    for (const pc of (window as any).__pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') { if (r.bytesReceived > 0) mark('in_bytes_' + r.mid); if (r.framesDecoded > 0) mark('in_frame_' + r.mid); }
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.bytesSent > 0) mark('out_bytes');
      });
      for (const t of pc.getTransceivers()) if (t.currentDirection === 'sendonly' && t.receiver.track.kind === 'video') mark('send_nego');
    }
  }, 5);
};

test.skip(!process.env.BEDSIDE_BENCH, 'benchmark: run scripts/bench-visit');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Installed before each page loads: when the first frame of a remote camera video is
// decoded.
const watchFirstFrame = () => {
  (window as any).__firstFrame = 0;
  new MutationObserver(() => {
    // Every remote camera video: a tile is drawn anew when its track's state changes
    // (media arrived, muted, paused), so the first element seen may not be the one that
    // plays.
    for (const video of document.querySelectorAll('figure.call-tile[data-source="camera"] video')) {
      if ((video as any).__watched) continue;
      (video as any).__watched = true;
      // `loadeddata`: the first frame is decoded (fires in a page that is not painting).
      video.addEventListener('loadeddata', () => { (window as any).__firstFrame ||= performance.now(); });
      if ((video as HTMLVideoElement).readyState >= 2) (window as any).__firstFrame ||= performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
};

test('join-to-first-frame and admit-to-video of the whole visit', async ({ browser }) => {
  test.setTimeout(900_000);
  const visits = Number(process.env.BENCH_VISITS ?? 20);
  const staff = await browser.newContext();
  await staff.addInitScript(watchFirstFrame);
  if (process.env.BENCH_TIMELINE) await staff.addInitScript(hookPcs);
  const console_ = await staff.newPage();
  await signIn(console_, clinician.email, clinician.password);
  const waitingMs = Number(process.env.BENCH_WAITING_MS ?? 1500);
  const rounds = [0, waitingMs].map((admitWaitMs) => ({
    admitWaitMs,
    joinToFrame: [] as number[],
    admitToVideo: [] as number[],
    admitToPatientFrame: [] as number[],
  }));
  let failed = 0;
  for (let i = 0; i < 2 * visits; i++) {
    const round = rounds[i < visits ? 0 : 1];
    const { api, auth, meeting, link } = await apiVisit(`Bench Patient ${i}`);
    await console_.goto(`/visits/${meeting.id}`);
    await hydrated(console_);
    await expect(console_.locator('[data-testid="call-dock"] .call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });
    const patientContext = await browser.newContext();
    await patientContext.addInitScript(watchFirstFrame);
    if (process.env.BENCH_TIMELINE) await patientContext.addInitScript(hookPcs);
    const patient = await patientContext.newPage();
    await patient.goto(`/visit#${link}`);
    await hydrated(patient);
    await patient.getByTestId('visit-continue').click();
    await expect(patient.getByTestId('check-connection')).toContainText('good');
    await expect.poll(() => patient.getByTestId('device-preview').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
    await patient.evaluate(() => {
      (window as any).__joinAt = performance.now();
      (document.querySelector('[data-testid="join-waiting"]') as HTMLButtonElement).click();
    });
    // The clinician admits as soon as the patient shows up, or after they have waited.
    await expect(patient.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });
    await patient.waitForTimeout(round.admitWaitMs);
    const admit = console_.getByTestId('participant').filter({ hasText: `Bench Patient ${i}` }).getByTestId('admit');
    await admit.waitFor({ timeout: 15_000 });
    // BENCH_PROFILE=1: the console's CPU profile from the click to its first frame, as the
    // functions that took the most time themselves (for whoever looks into the console).
    const profiler = process.env.BENCH_PROFILE ? await staff.newCDPSession(console_) : null;
    if (profiler) { await profiler.send('Profiler.enable'); await profiler.send('Profiler.setSamplingInterval', { interval: 200 }); await profiler.send('Profiler.start'); }
    // Clicked in the page, timed at the click. Pushed events re-render the row, so the
    // button is looked up again until one is there.
    await expect
      .poll(() =>
        console_.evaluate(() => {
          const button = document.querySelector('[data-testid="admit"]') as HTMLButtonElement | null;
          if (!button) return false;
          (window as any).__admitAt = performance.now();
          button.click();
          return true;
        }),
      )
      .toBe(true);
    const arrived = async (page: typeof patient) => {
      await expect.poll(() => page.evaluate(() => (window as any).__firstFrame), { timeout: 20_000 }).toBeGreaterThan(0);
      return true;
    };
    // A visit whose media never arrived is counted, not hidden.
    if (!(await arrived(patient).catch(() => false)) || !(await arrived(console_).catch(() => false))) {
      failed += 1;
      if (process.env.BENCH_TIMELINE) {
        const marks = (page: typeof patient) => page.evaluate(() => JSON.stringify((window as any).__marks));
        console.log('TIMELINE FAILED', await marks(patient), await marks(console_));
      }
      const tiles = (page: typeof patient) => page.evaluate(() => JSON.stringify([...document.querySelectorAll('figure.call-tile, audio')].map((f) => [f.tagName, f.getAttribute('data-source'), (f.querySelector('video') as any)?.readyState, f.getAttribute('data-received')])));
      console.log('FAILED VISIT console', await tiles(console_));
      console.log('FAILED VISIT', i, await patient.evaluate(() => JSON.stringify([...document.querySelectorAll('figure.call-tile, audio')].map((f) => [f.tagName, f.getAttribute('data-source'), (f.querySelector('video') as any)?.readyState, f.getAttribute('data-received')]))), await patient.locator('.call-stage').getAttribute('data-state'));
      await patientContext.close();
      await api.dispose();
      continue;
    }
    if (profiler) {
      const { profile } = await profiler.send('Profiler.stop');
      const self = new Map<string, number>();
      const dt = new Map<number, number>();
      profile.samples!.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas![i] ?? 0)));
      for (const node of profile.nodes) {
        const f = node.callFrame;
        const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
        self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0) / 1000);
      }
      console.log('PROFILE', JSON.stringify([...self].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, v]) => [k, Math.round(v)])));
      await profiler.detach();
    }
    if (process.env.BENCH_TIMELINE) {
      const admitAbs = await console_.evaluate(() => performance.timeOrigin + (window as any).__admitAt);
      const rel = (m: any) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round((v as number) - admitAbs)]));
      // The polled marks, and the client's own User Timing marks (`bedside:*`): the first
      // of each name after the Admit click.
      const marks = async (page: typeof patient) => {
        const list: [string, number][] = await page.evaluate(() => [
          ...Object.entries((window as any).__marks as Record<string, number>),
          ...performance.getEntriesByType('mark').map((m) => [m.name, performance.timeOrigin + m.startTime] as [string, number]),
        ]);
        const after: Record<string, number> = {};
        for (const [name, at] of list.sort((a, b) => a[1] - b[1])) if (at >= admitAbs && !(name in after)) after[name] = at;
        return after;
      };
      // And when each page's watched tile showed its first frame (what the benchmark times).
      const tileFrame = async (page: typeof patient) => ({ tile_frame: await page.evaluate(() => performance.timeOrigin + (window as any).__firstFrame) });
      console.log('TIMELINE', JSON.stringify({ admit_wait_ms: round.admitWaitMs, admit_epoch_ms: Math.round(admitAbs), patient: rel({ ...(await marks(patient)), ...(await tileFrame(patient)) }), console: rel({ ...(await marks(console_)), ...(await tileFrame(console_)) }) }));
    }
    const absolute = (page: typeof patient, key: string) => page.evaluate((k) => performance.timeOrigin + (window as any)[k], key);
    round.admitToPatientFrame.push(Math.round((await absolute(patient, '__firstFrame')) - (await absolute(console_, '__admitAt'))));
    round.joinToFrame.push(Math.round(await patient.evaluate(() => (window as any).__firstFrame - (window as any).__joinAt)));
    round.admitToVideo.push(Math.round(await console_.evaluate(() => (window as any).__firstFrame - (window as any).__admitAt)));
    await patientContext.close();
    await api.delete(`/api/v1/meetings/${meeting.id}`, { headers: auth });
    await api.dispose();
  }
  const summary = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95), min: Math.min(...values), max: Math.max(...values) });
  const report = (round: (typeof rounds)[number]) => ({
    admit_wait_ms: round.admitWaitMs,
    visits_with_media: round.admitToVideo.length,
    // After waiting, the join-to-frame time is mostly the wait itself.
    ...(round.admitWaitMs === 0 ? { patient_join_to_first_remote_frame_ms: summary(round.joinToFrame) } : {}),
    clinician_admit_to_patient_video_ms: summary(round.admitToVideo),
    admit_to_clinician_video_at_patient_ms: summary(round.admitToPatientFrame),
  });
  console.log(JSON.stringify({
    visits: 2 * visits,
    visits_without_media: failed,
    on_arrival: report(rounds[0]),
    after_waiting: report(rounds[1]),
  }));
  await staff.close();
});
