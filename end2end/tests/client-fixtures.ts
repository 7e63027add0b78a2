// Helpers for the tests of Bedside's Rust/WASM media client: participants on the dev
// demo call page (/dev/call), and reading the stream counters it shows.
import { expect, type Browser, type Page } from '@playwright/test';

export type CallOptions = { two?: boolean; publish?: boolean; granted?: boolean };

export type StreamRow = {
  dir: 'in' | 'out';
  kind: 'audio' | 'video';
  identity: string;
  sid: string;
  rid: string;
  bytes: number;
  frames: number;
  width: number;
  height: number;
  bitrate: number;
};

const opened: Page[] = [];

/** A fresh browser context on the demo call page, joined to `room` as `name`. */
export async function openCall(browser: Browser, room: string, name: string, opts: CallOptions = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  opened.push(page);
  const query = new URLSearchParams({
    room,
    name,
    connections: opts.two ? 'two' : 'one',
    publish: opts.publish === false ? '0' : '1',
    granted: opts.granted === false ? '0' : '1',
    join: '1',
  });
  await page.goto(`/dev/call?${query}`);
  await expect(page.locator('.call-stage')).toHaveAttribute('data-state', 'Connected', { timeout: 15_000 });
  return page;
}

/** Closes every call page a test opened. */
export async function closeCalls() {
  await Promise.all(opened.splice(0).map((p) => p.context().close()));
}

/** The stream counters the page shows (refreshed every second). */
export async function streams(page: Page): Promise<StreamRow[]> {
  return JSON.parse((await page.getByTestId('call-stats').textContent()) ?? '[]');
}

/** The inbound stream of `identity`'s `kind` (the zero row if none yet). */
export async function inboundFrom(page: Page, identity: string, kind: 'audio' | 'video'): Promise<StreamRow> {
  const rows = (await streams(page)).filter((s) => s.dir === 'in' && s.kind === kind && s.identity === identity);
  return rows.sort((a, b) => b.bytes - a.bytes)[0] ?? { dir: 'in', kind, identity, sid: '', rid: '', bytes: 0, frames: 0, width: 0, height: 0, bitrate: 0 };
}

/** Waits until inbound `kind` bytes from `identity` grow between two samples (the
 * counters refresh every second; a sample from before a reconnect may be stale). */
export async function expectFlowing(page: Page, identity: string, kind: 'audio' | 'video') {
  await expect
    .poll(async () => {
      const before = (await inboundFrom(page, identity, kind)).bytes;
      await page.waitForTimeout(1500);
      const after = (await inboundFrom(page, identity, kind)).bytes;
      return before > 0 && after > before;
    }, { timeout: 20_000 })
    .toBe(true);
}

/** The decoded width of `identity`'s camera video on `page`. */
export async function videoWidth(page: Page, identity: string, source = 'camera') {
  return page
    .locator(`figure.call-tile[data-identity="${identity}"][data-source="${source}"] video`)
    .evaluate((v: HTMLVideoElement) => v.videoWidth)
    .catch(() => 0);
}
