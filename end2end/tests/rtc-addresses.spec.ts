// Media when the address the SFU binds is not the one it advertises, as operators run
// it: bound to 0.0.0.0 on a host with two addresses (either one advertised), and bound
// to a private address behind a 1:1 NAT that owns the public one.
//
// scripts/test runs Playwright inside its own network namespace; this spec gives that
// namespace's host two more addresses with a veth pair (10.203.0.1 and 10.203.0.2) and
// plays the NAT with a user-space UDP relay (kernel netem/NAT modules are not on these
// machines). Each case starts `server sfu` (the media-only host) with its own
// addresses, and two livekit-client participants call through it.
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { expect, test } from '@playwright/test';
import { closeParticipants, participantPage, token } from './rtc-fixtures';

const PRIVATE = '10.203.0.1';
const PUBLIC = '10.203.0.2';
/** The NAT's inside address: the only one the SFU's private port may talk to. */
const NAT_INSIDE = '10.203.0.3';
const sh = (command: string) =>
  execSync(command, { env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH}` } });

test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  sh('ip link del bsd0 2>/dev/null || true');
  sh('ip link add bsd0 type veth peer name bsd1');
  sh(`ip addr add ${PRIVATE}/24 dev bsd0`);
  sh(`ip addr add ${PUBLIC}/24 dev bsd1`);
  sh(`ip addr add ${NAT_INSIDE}/24 dev bsd1`);
  sh('ip link set bsd0 up');
  sh('ip link set bsd1 up');
});
test.afterAll(() => sh('ip link del bsd0 2>/dev/null || true'));
test.afterEach(closeParticipants);

let sfu: ChildProcess | undefined;
test.afterEach(async () => {
  const running = sfu;
  sfu = undefined;
  if (!running || running.exitCode !== null || running.signalCode !== null) return;
  // Wait for it to go: the next case binds the same ports, and a health check could
  // otherwise be answered by this one while it shuts down.
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill();
  await exited;
});

/** Starts `server sfu` with `bind`/`advertise`; resolves with its signaling URL. */
async function startSfu(bind: string, advertise: string, udpPort: number, httpPort: number) {
  const binary = `${process.env.CARGO_TARGET_DIR}/debug/server`;
  sfu = spawn(binary, ['sfu'], {
    env: {
      ...process.env,
      BEDSIDE_ADDR: `127.0.0.1:${httpPort}`,
      BEDSIDE_RTC_BIND_IP: bind,
      BEDSIDE_RTC_PUBLIC_IP: advertise,
      BEDSIDE_RTC_UDP_PORT: String(udpPort),
      // One shard, one port: the user-space NAT below forwards that port only (a real
      // 1:1 NAT forwards the shards' whole range, docs/sfu.md).
      BEDSIDE_SFU_SHARDS: '1',
      BEDSIDE_RTC_TCP_PORT: 'off',
      BEDSIDE_WEBHOOK_URLS: '',
      RUST_LOG: 'warn',
    },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${httpPort}`;
  await expect
    .poll(() => fetch(`${base}/health`).then((r) => r.status, () => 0), { timeout: 20_000 })
    .toBe(200);
  return base.replace(/^http/, 'ws');
}

/** A 1:1 NAT in user space: `public:port` forwards to `private:port`, one inside
 * socket per client, so the SFU sees the NAT's address, never the client's. */
function startNat(port: number) {
  const outside = dgram.createSocket('udp4');
  const upstream = new Map<string, dgram.Socket>();
  outside.on('message', (message, client) => {
    const key = `${client.address}:${client.port}`;
    let inside = upstream.get(key);
    if (!inside) {
      inside = dgram.createSocket('udp4');
      inside.bind(0, NAT_INSIDE);
      inside.on('message', (reply) => outside.send(reply, client.port, client.address));
      upstream.set(key, inside);
    }
    inside.send(message, port, PRIVATE);
  });
  outside.bind(port, PUBLIC);
  return () => {
    outside.close();
    upstream.forEach((s) => s.close());
  };
}

async function callThrough(url: string, room: string, browser: import('@playwright/test').Browser) {
  const alice = await participantPage(browser);
  const bob = await participantPage(browser);
  const joinAs = (page: typeof alice, identity: string, publish: boolean) =>
    page.evaluate(
      ([u, t, p]) => (window as any).bedside.join(u, t, { singlePeerConnection: true, publish: p }),
      [url, token(identity, { room }), publish] as const,
    );
  await joinAs(alice, 'alice', true);
  await joinAs(bob, 'bob', true);
  await expect.poll(() => bob.evaluate(() => (window as any).bedside.videoWidth('alice')), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect.poll(() => alice.evaluate(() => (window as any).bedside.videoWidth('bob')), { timeout: 20_000 }).toBeGreaterThan(0);
  return bob.evaluate(() => (window as any).bedside.remoteAddress('alice', 'video'));
}

for (const advertised of [PRIVATE, PUBLIC]) {
  test(`a call connects with the SFU bound to 0.0.0.0 and ${advertised} advertised`, async ({ browser }) => {
    const url = await startSfu('0.0.0.0', advertised, 7994, 3111);
    const remote = await callThrough(url, `visit-any-${advertised}-${Date.now()}`, browser);
    expect(remote).toBe(`${advertised}:7994`);
  });
}

test('a call connects with the SFU on a private address behind a 1:1 NAT that advertises the public one', async ({ browser }) => {
  const url = await startSfu(PRIVATE, PUBLIC, 7995, 3112);
  const stopNat = startNat(7995);
  // As behind a real NAT, the private address is unreachable from outside: only the
  // NAT's inside sockets may talk to the SFU's port (the browser shares this host, so
  // without the rules the SFU's own connectivity checks would reach it directly).
  const isolate = [
    `OUTPUT -p udp -s ${PRIVATE} --sport 7995 ! -d ${NAT_INSIDE} -j DROP`,
    `OUTPUT -p udp -d ${PRIVATE} --dport 7995 ! -s ${NAT_INSIDE} -j DROP`,
  ];
  isolate.forEach((rule) => sh(`iptables -I ${rule}`));
  try {
    const remote = await callThrough(url, `visit-nat-${Date.now()}`, browser);
    // Media flows through the NAT's public address; nothing reaches the private one
    // directly (the SFU advertises only the public address).
    expect(remote).toBe(`${PUBLIC}:7995`);
  } finally {
    isolate.forEach((rule) => sh(`iptables -D ${rule}`));
    stopNat();
  }
});
