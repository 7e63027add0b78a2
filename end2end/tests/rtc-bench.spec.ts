// Benchmark, not a test: run by scripts/bench-rtc (skipped in the test suite). Prints one
// JSON line: join-to-first-remote-frame times of livekit-client against the embedded SFU
// (p50 of BENCH_JOINS joins, loopback) and the server's CPU time per forwarded megabit.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { inbound, join, pageState, participantPage } from './rtc-fixtures';

test.skip(!process.env.BEDSIDE_BENCH, 'benchmark: run scripts/bench-rtc');

/** User + system CPU time of a process, in milliseconds (Linux, 100 ticks/s). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function receivedBytes(page: import('@playwright/test').Page) {
  return (await inbound(page, 'alice', 'video')).bytes + (await inbound(page, 'alice', 'audio')).bytes;
}

test('join-to-first-remote-frame and SFU CPU per forwarded megabit', async ({ browser }) => {
  test.setTimeout(600_000);
  const joins = Number(process.env.BENCH_JOINS ?? 10);
  const window = Number(process.env.BENCH_WINDOW_SECS ?? 20);
  const pid = Number(process.env.BEDSIDE_SERVER_PID);
  const report: Record<string, unknown> = { joins, window_secs: window };
  for (const mode of [{ name: 'single_pc', single: true }, { name: 'two_pc', single: false }]) {
    const room = `bench-${mode.name}-${Date.now()}`;
    const alice = await participantPage(browser);
    await join(alice, 'alice', room, { single: mode.single, publish: true });
    const bob = await participantPage(browser);
    const times: number[] = [];
    for (let i = 0; i < joins; i++) {
      await join(bob, 'bob', room, { single: mode.single, publish: false });
      await expect.poll(async () => (await pageState(bob)).firstFrameMs, { timeout: 30_000 }).toBeGreaterThan(0);
      times.push(Math.round((await pageState(bob)).firstFrameMs));
      await bob.evaluate(() => (window as any).bedside.leave());
    }
    await join(bob, 'bob', room, { single: mode.single, publish: false });
    await expect.poll(async () => (await pageState(bob)).firstFrameMs, { timeout: 30_000 }).toBeGreaterThan(0);
    const [cpu0, bytes0] = [cpuMs(pid), await receivedBytes(bob)];
    await bob.waitForTimeout(window * 1000);
    const [cpu1, bytes1] = [cpuMs(pid), await receivedBytes(bob)];
    const mbit = ((bytes1 - bytes0) * 8) / 1e6;
    report[mode.name] = {
      join_to_first_frame_ms: { p50: percentile(times, 50), min: Math.min(...times), max: Math.max(...times), all: times },
      forwarded_mbit: Number(mbit.toFixed(2)),
      forwarded_mbit_per_s: Number((mbit / window).toFixed(3)),
      server_cpu_ms: cpu1 - cpu0,
      server_cpu_ms_per_forwarded_mbit: Number(((cpu1 - cpu0) / mbit).toFixed(1)),
    };
    await alice.context().close();
    await bob.context().close();
  }
  console.log(JSON.stringify(report));
});
