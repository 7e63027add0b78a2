//! `sfu-bench`: how much the embedded SFU forwards per CPU-core second.
//!
//! Starts `server sfu` (the SFU alone) as its own process, then runs N concurrent 1:1
//! visits against it over loopback UDP. Each side is a str0m peer in this process that
//! publishes Opus-like audio (20 ms frames) and 720p-like three-layer simulcast video
//! (30 fps; about 150 kbit/s, 500 kbit/s and 1.5 Mbit/s). For each N it measures, over a
//! window after a warm-up:
//! - packets and megabits per second the peers receive (what the SFU forwarded), and
//!   per CPU-core second of the SFU process (from `/proc/<pid>/stat`);
//! - the p50/p99 delay the SFU adds (from the kernel's receive time to departure,
//!   sampled by the SFU itself and read off its `/metrics`), and the p50/p99
//!   send-to-receive delay of packets (that plus the generator's own loops, all on
//!   loopback);
//! - what the SFU's transport-wide feedback told each publisher: a send-side estimate
//!   run on it (`lean_send.rs`) against what the publisher sends;
//! - the CPU the generator used, to show the SFU's core, not the generator's,
//!   saturates first;
//! - frame loss.
//!
//! It prints one JSON line per N and a summary line with the largest N with under 1% of
//! its frames lost or its packets over 200 ms late. Pinned (`BENCH_SFU_CPU`), it first
//! prints how often the host itself stalls the SFU's core while the others are busy
//! (`host_stalls.rs`), the floor under the p99.
//! Usage: `sfu-bench <server binary> [visits,...] [window seconds]`.

mod batch_io;
mod forward_delay;
mod host_stalls;
mod lean_receive;
mod lean_send;
mod payload;
mod peer;
mod report;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use livekit_api::access_token::{AccessToken, VideoGrants};
use serde_json::json;

/// The allocator the server runs with (server/src/main.rs): the generator's str0m
/// peers allocate per packet as the SFU's do, and the generator must stay cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const API_KEY: &str = "bench-key";
const WARMUP: Duration = Duration::from_secs(4);
/// Visits join this far apart, as a clinic's do, rather than all in one instant: the
/// SFU runs each peer's DTLS handshake on its shard's loop, and a few hundred at once
/// would still be in progress when the measurement starts (the warm-up counts from the
/// last join).
const JOIN_SPACING: Duration = Duration::from_millis(10);
/// A packet this late (send to receive) is as good as lost: a receiver's jitter buffer
/// has given up on it. Counted with the lost ones for "visits under 1% loss", so an
/// SFU that keeps every packet by queueing it for seconds does not pass.
const LATE_US: u64 = 200_000;

struct Sfu {
    child: Child,
    /// Signaling (`ws://`).
    url: String,
    /// The same server over HTTP (`/metrics`).
    http_url: String,
}

impl Drop for Sfu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_sfu(server: &str, secret: &str) -> anyhow::Result<Sfu> {
    let port = free_port()?;
    let data = std::env::temp_dir().join(format!("bedside-bench-{port}"));
    let sfu_log = std::env::var("BENCH_SFU_LOG").ok();
    // Pinned to its own core when asked (scripts/bench-sfu does on a machine with two
    // or more), so the load generator never runs on the core being measured.
    let mut command = match std::env::var("BENCH_SFU_CPU") {
        Ok(cpu) => {
            let mut pinned = Command::new("taskset");
            pinned.args(["-c", &cpu, server]);
            pinned
        }
        Err(_) => Command::new(server),
    };
    let child = command
        .arg("sfu")
        .env("BEDSIDE_ADDR", format!("127.0.0.1:{port}"))
        .env("BEDSIDE_DATA_DIR", data)
        .env("BEDSIDE_RTC_UDP_PORT", "0")
        .env("BEDSIDE_RTC_TCP_PORT", "off")
        // One shard per measured core (BENCH_SFU_SHARDS to try more).
        .env(
            "BEDSIDE_SFU_SHARDS",
            std::env::var("BENCH_SFU_SHARDS").unwrap_or_else(|_| "1".into()),
        )
        .env("LIVEKIT_API_KEY", API_KEY)
        .env("LIVEKIT_API_SECRET", secret)
        // BENCH_SFU_LOG=<filter> shows the SFU's own log (stderr) with that filter.
        .env("RUST_LOG", sfu_log.as_deref().unwrap_or("warn"))
        .stdout(Stdio::null())
        .stderr(if sfu_log.is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .with_context(|| format!("starting {server} sfu"))?;
    let url = format!("ws://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let http_url = format!("http://127.0.0.1:{port}");
            return Ok(Sfu {
                child,
                url,
                http_url,
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!("the SFU did not start listening")
}

/// User + system CPU seconds of a process so far (Linux, 100 ticks per second).
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split(' ').collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((ticks(11) + ticks(12)) / 100.0)
}

fn token(secret: &str, room: &str, identity: &str) -> anyhow::Result<String> {
    Ok(AccessToken::with_api_key(API_KEY, secret)
        .with_identity(identity)
        .with_grants(VideoGrants {
            room_join: true,
            room: room.into(),
            ..Default::default()
        })
        .to_jwt()?)
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn step(
    sfu: &Sfu,
    secret: &str,
    visits: usize,
    window: Duration,
) -> anyhow::Result<serde_json::Value> {
    let epoch = Instant::now();
    let measure_from = epoch + JOIN_SPACING * visits as u32 + WARMUP;
    let stop = measure_from + window;
    let mut peers = Vec::new();
    for visit in 0..visits {
        if visit > 0 {
            tokio::time::sleep(JOIN_SPACING).await;
        }
        let room = format!("bench-{visits}-{visit}");
        for side in ["clinician", "patient"] {
            let t = token(secret, &room, side)?;
            peers.push(tokio::spawn(peer::run(
                sfu.url.clone(),
                t,
                epoch,
                measure_from,
                stop,
            )));
        }
    }
    tokio::time::sleep_until(tokio::time::Instant::from_std(measure_from)).await;
    let cpu_start = cpu_seconds(sfu.child.id())?;
    let generator_start = cpu_seconds(std::process::id())?;
    let delay_start = forward_delay::read(&sfu.http_url, API_KEY, secret).await?;
    tokio::time::sleep_until(tokio::time::Instant::from_std(stop)).await;
    let cpu = cpu_seconds(sfu.child.id())? - cpu_start;
    let generator_cpu = cpu_seconds(std::process::id())? - generator_start;
    let (audio_end, video_end) = forward_delay::read(&sfu.http_url, API_KEY, secret).await?;
    let audio_delay = audio_end.since(&delay_start.0);
    let video_delay = video_end.since(&delay_start.1);
    let delay = audio_delay.plus(&video_delay);
    let mut reports = Vec::new();
    for p in peers {
        match p.await? {
            Ok(report) => reports.push(report),
            Err(error) => eprintln!("a peer failed: {error:#}"),
        }
    }
    let secs = window.as_secs_f64();
    let packets: u64 = reports.iter().map(|r| r.packets_received).sum();
    let bytes: u64 = reports.iter().map(|r| r.bytes_received).sum();
    let sent: u64 = reports
        .iter()
        .map(|r| r.video_frames_sent + r.audio_frames_sent)
        .sum();
    let received: u64 = reports
        .iter()
        .map(|r| r.video_frames_received + r.audio_frames_received)
        .sum();
    let loss_of = |sent: u64, received: u64| {
        let loss = if sent == 0 {
            1.0
        } else {
            1.0 - (received as f64 / sent as f64).min(1.0)
        };
        (loss * 10000.0).round() / 100.0
    };
    let video_loss = loss_of(
        reports.iter().map(|r| r.video_frames_sent).sum(),
        reports.iter().map(|r| r.video_frames_received).sum(),
    );
    let audio_loss = loss_of(
        reports.iter().map(|r| r.audio_frames_sent).sum(),
        reports.iter().map(|r| r.audio_frames_received).sum(),
    );
    let mut latencies: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let loss = if sent == 0 {
        1.0
    } else {
        1.0 - (received as f64 / sent as f64).min(1.0)
    };
    let late = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().filter(|l| **l > LATE_US).count() as f64 / latencies.len() as f64
    };
    // What the SFU's transport-wide feedback told each publisher (`lean_send.rs`): the
    // share whose estimate fell below what they send would have had a browser's
    // encoder send less.
    let uplinks: Vec<(u64, u64)> = reports
        .iter()
        .filter_map(|r| {
            Some((
                r.uplink_estimate_bps?,
                (r.bytes_sent as f64 * 8.0 / secs) as u64,
            ))
        })
        .filter(|(_, sent)| *sent > 0)
        .collect();
    let mut estimates: Vec<u64> = uplinks.iter().map(|(e, _)| e / 1000).collect();
    estimates.sort_unstable();
    let held = uplinks
        .iter()
        .filter(|(estimate, sent)| estimate < sent)
        .count();
    let held_pct = if uplinks.is_empty() {
        0.0
    } else {
        held as f64 * 100.0 / uplinks.len() as f64
    };
    let sent_kbps =
        uplinks.iter().map(|(_, s)| s / 1000).sum::<u64>() / (uplinks.len().max(1) as u64);
    let mbit = bytes as f64 * 8.0 / 1e6;
    let cores = cpu / secs;
    Ok(json!({
        "visits": visits,
        "peers_ok": reports.len(),
        "window_s": secs,
        "forwarded_packets_per_s": (packets as f64 / secs).round(),
        "forwarded_mbit_per_s": (mbit / secs * 100.0).round() / 100.0,
        "sfu_cpu_cores": (cores * 1000.0).round() / 1000.0,
        "packets_per_cpu_core_s": if cpu > 0.0 { (packets as f64 / cpu).round() } else { 0.0 },
        "mbit_per_cpu_core_s": if cpu > 0.0 { (mbit / cpu * 100.0).round() / 100.0 } else { 0.0 },
        "sfu_added_ms_p50": round3(delay.quantile_ms(0.5)),
        "sfu_added_ms_p99": round3(delay.quantile_ms(0.99)),
        "sfu_added_samples": delay.total(),
        "sfu_added_audio_ms_p99": round3(audio_delay.quantile_ms(0.99)),
        "sfu_added_video_ms_p99": round3(video_delay.quantile_ms(0.99)),
        "end_to_end_ms_p50": percentile(&latencies, 0.5),
        "end_to_end_ms_p99": percentile(&latencies, 0.99),
        "generator_cpu_cores": (generator_cpu / secs * 1000.0).round() / 1000.0,
        "frame_loss_pct": (loss * 10000.0).round() / 100.0,
        "late_packet_pct": (late * 10000.0).round() / 100.0,
        "lost_or_late_pct": ((loss + late) * 10000.0).round() / 100.0,
        "video_frame_loss_pct": video_loss,
        "audio_frame_loss_pct": audio_loss,
        "publisher_sent_kbps_mean": sent_kbps,
        "publisher_estimate_kbps_min": estimates.first(),
        "publisher_estimate_kbps_p10": estimates.get(estimates.len() / 10),
        "publishers_estimated_below_sent_pct": (held_pct * 100.0).round() / 100.0,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let server = args
        .next()
        .context("usage: sfu-bench <server binary> [visits,...] [window seconds]")?;
    let visits: Vec<usize> = args
        .next()
        .unwrap_or_else(|| "1,2,4,8,16".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let window = Duration::from_secs(args.next().and_then(|s| s.parse().ok()).unwrap_or(10));
    // reqwest (the `/metrics` reads) needs a TLS provider chosen, even for http.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // The host's own stalls of the SFU's core while the others are busy (the floor
    // under the SFU-added p99, `host_stalls.rs`), before anything else runs.
    if let Some(core) = std::env::var("BENCH_SFU_CPU")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
    {
        // SAFETY: sysconf reads a number.
        let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
        let others: Vec<usize> = (0..cpus).filter(|c| *c != core).collect();
        println!(
            "{}",
            host_stalls::measure(core, &others, Duration::from_secs(5))
        );
    }
    let secret = format!("bench-secret-{}", std::process::id()).repeat(2);
    let sfu = start_sfu(&server, &secret)?;
    let mut best = None;
    let mut last = serde_json::Value::Null;
    for n in visits {
        let result = step(&sfu, &secret, n, window).await?;
        println!("{result}");
        let loss = result["lost_or_late_pct"].as_f64().unwrap_or(100.0);
        if loss < 1.0 {
            best = Some(n);
            last = result;
        } else {
            break;
        }
    }
    println!(
        "{}",
        json!({ "largest_visits_under_1pct_lost_or_late": best, "at_that_load": last })
    );
    Ok(())
}
