// Benchmark, not a test: run by scripts/bench-client (skipped in the test suite). Prints
// one JSON line: the time from Room::connect (the moment the demo page has its token)
// to the first remote video frame decoded, for Bedside's Rust/WASM client against the
// embedded SFU on loopback, over BENCH_JOINS joins (default 20) in each connection mode.
import { expect, test } from '@playwright/test';
import { closeCalls, openCall } from './client-fixtures';

test.skip(!process.env.BEDSIDE_BENCH, 'benchmark: run scripts/bench-client');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Installed before the page loads: the first frame of any remote camera video.
const watchFirstFrame = () => {
  (window as any).__firstFrame = 0;
  new MutationObserver(() => {
    const video = document.querySelector('figure.call-tile[data-identity="alice"] video') as HTMLVideoElement | null;
    if (video && !(video as any).__watched) {
      (video as any).__watched = true;
      video.requestVideoFrameCallback((now) => { (window as any).__firstFrame = now; });
    }
  }).observe(document, { childList: true, subtree: true });
};

test('join-to-first-remote-frame of the Rust/WASM client', async ({ browser }) => {
  test.setTimeout(600_000);
  const joins = Number(process.env.BENCH_JOINS ?? 20);
  const report: Record<string, unknown> = { joins };
  for (const mode of [{ name: 'single_pc', two: false }, { name: 'two_pc', two: true }]) {
    const room = `bench-${mode.name}-${Date.now()}`;
    await openCall(browser, room, 'alice', { two: mode.two });
    const context = await browser.newContext();
    await context.addInitScript(watchFirstFrame);
    const page = await context.newPage();
    const times: number[] = [];
    for (let i = 0; i < joins; i++) {
      const query = new URLSearchParams({ room, name: `bob-${i}`, connections: mode.two ? 'two' : 'one', publish: '0', join: '1' });
      await page.goto(`/dev/call?${query}`);
      await expect.poll(() => page.evaluate(() => (window as any).__firstFrame), { timeout: 30_000 }).toBeGreaterThan(0);
      const elapsed = await page.evaluate(() => {
        const token = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/dev/call-token')) as PerformanceResourceTiming;
        return (window as any).__firstFrame - token.responseEnd;
      });
      times.push(Math.round(elapsed));
      await page.getByRole('button', { name: 'Leave' }).click();
    }
    report[mode.name] = {
      connect_to_first_frame_ms: { p50: percentile(times, 50), p95: percentile(times, 95), min: Math.min(...times), max: Math.max(...times), all: times },
    };
    await context.close();
    await closeCalls();
  }
  console.log(JSON.stringify(report));
});
