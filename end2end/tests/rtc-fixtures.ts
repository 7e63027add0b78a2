// Helpers for the media tests: LiveKit access tokens (HS256, minted here with the
// server's key and secret) and a test page that runs livekit-client from npm.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildSync } from 'esbuild';
import type { Browser, BrowserContext, Page } from '@playwright/test';

export const baseURL = process.env.BEDSIDE_BASE_URL ?? 'http://127.0.0.1:3000';
export const wsURL = baseURL.replace(/^http/, 'ws');
const apiKey = process.env.LIVEKIT_API_KEY ?? '';
const apiSecret = process.env.LIVEKIT_API_SECRET ?? '';

const bundle = buildSync({
  entryPoints: [path.join(__dirname, '..', 'rtc', 'page.ts')],
  bundle: true,
  write: false,
  format: 'iife',
  minify: true,
  target: 'chrome120',
}).outputFiles[0].text;

const html = `<!doctype html><meta charset="utf-8"><title>rtc test</title><body><script>${bundle}</script></body>`;

type Grant = {
  room?: string;
  roomJoin?: boolean;
  canPublish?: boolean;
  canSubscribe?: boolean;
  canPublishData?: boolean;
  roomAdmin?: boolean;
  roomCreate?: boolean;
  roomList?: boolean;
  canUpdateOwnMetadata?: boolean;
};

function b64url(data: string | Buffer) {
  return Buffer.from(data).toString('base64url');
}

/** A LiveKit access token, as the server SDKs mint them. */
export function token(identity: string, grant: Grant, opts: { secret?: string; ttlSecs?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: apiKey,
    sub: identity,
    name: identity,
    nbf: now - 10,
    exp: now + (opts.ttlSecs ?? 600),
    video: { roomJoin: true, canPublish: true, canSubscribe: true, canPublishData: true, ...grant },
  };
  const unsigned = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', opts.secret ?? apiSecret).update(unsigned).digest();
  return `${unsigned}.${b64url(signature)}`;
}

// The page is served from loopback by this worker (not injected by Playwright), so the
// browser sees a loopback origin talking to a loopback server: Chromium's local network
// access checks allow that, and 127.0.0.1 is a secure context for getUserMedia.
// LiveKit's E2EE worker, as its package ships it.
const e2eeWorker = readFileSync(require.resolve('livekit-client/e2ee-worker'));
const pageServer = createServer((req, res) => {
  if (req.url === '/e2ee-worker.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    res.end(e2eeWorker);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(html);
});
const pageServerReady = new Promise<string>((resolve) => {
  pageServer.listen(0, '127.0.0.1', () => {
    resolve(`http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`);
  });
});
pageServer.unref();

const openContexts: BrowserContext[] = [];

/** A fresh browser context on the test page (closed by `closeParticipants`). */
export async function participantPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  openContexts.push(context);
  const page = await context.newPage();
  await page.goto(await pageServerReady);
  return page;
}

type JoinOptions = { single: boolean; publish: boolean; canPublish?: boolean; adaptiveStream?: boolean; videoWidth?: number; e2eeKey?: string };

/** Joins `room` as `identity` from `page`. */
export async function join(page: Page, identity: string, room: string, opts: JoinOptions) {
  const t = token(identity, { room, canPublish: opts.canPublish ?? true });
  const options = {
    singlePeerConnection: opts.single,
    publish: opts.publish,
    adaptiveStream: opts.adaptiveStream ?? false,
    videoWidth: opts.videoWidth ?? 640,
    e2eeKey: opts.e2eeKey,
  };
  await page.evaluate(([url, t, o]) => (window as any).bedside.join(url, t, o), [wsURL, t, options] as const);
}

/** Calls LiveKit's RoomService (Twirp, JSON) with a server token granting `grant`. */
export async function roomService(method: string, body: object, grant: Grant) {
  const auth = token('', { roomJoin: false, ...grant });
  const response = await fetch(`${baseURL}/twirp/livekit.RoomService/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export async function inbound(page: Page, identity: string, kind: 'audio' | 'video') {
  return page.evaluate(([i, k]) => (window as any).bedside.inbound(i, k), [identity, kind] as const);
}

export async function pageState(page: Page): Promise<{ events: string[]; data: string[]; error: string; firstFrameMs: number }> {
  return page.evaluate(() => (window as any).bedside.state());
}

/** Closes every participant page a test opened, so no call outlives its test. */
export async function closeParticipants() {
  await Promise.all(openContexts.splice(0).map((c) => c.close()));
}
