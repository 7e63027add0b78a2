//! The simulated network's losses: seeded, and the same whatever order a step's
//! datagrams are sent in.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

/// Seeded losses that do not depend on the order datagrams are sent in within a step.
/// str0m polls its streams out of a `HashMap`, whose order differs from run to run, so a
/// generator drawn in send order would lose other packets in each run. Instead a datagram
/// is lost by a hash of the seed, the step, its addresses, its size (not for DTLS, whose
/// size varies, see [`TracedDatagram::len`]), what its clear-text header says it is
/// ([`stable_identity`]) and how many such datagrams went before it in the step.
pub(super) struct Losses {
    pub(super) seed: u64,
    pub(super) step: Instant,
    pub(super) seen: HashMap<(SocketAddr, SocketAddr, Option<usize>, u64), u64>,
}

/// What a datagram is, from the parts SRTP and SRTCP leave in the clear and that do not
/// vary between runs of one seed (not SSRCs: str0m picks some of its own out of a
/// `HashMap`): an RTP packet's payload type, sequence number and timestamp; an RTCP
/// packet's type, length and SRTCP index. Two datagrams of one size sent in one step,
/// say the SFU's NACK and str0m's report, are then told apart whatever their order;
/// by size and order alone, which of them is lost would change from run to run.
pub(super) fn stable_identity(bytes: &[u8]) -> u64 {
    match bytes {
        [first, second, rest @ ..] if first >> 6 == 2 && rest.len() >= 14 => {
            let word = |at: usize| {
                u64::from(u32::from_be_bytes([
                    bytes[at],
                    bytes[at + 1],
                    bytes[at + 2],
                    bytes[at + 3],
                ]))
            };
            if (192..=223).contains(second) {
                let trailer = word(bytes.len() - 4);
                (u64::from(*first & 0x1f) << 56) | (u64::from(*second) << 48) | trailer
            } else {
                (u64::from(*second & 0x7f) << 48) ^ ((word(0) & 0xffff) << 32) ^ word(4)
            }
        }
        _ => 0,
    }
}

impl Losses {
    pub(super) fn lost(
        &mut self,
        now: Instant,
        start: Instant,
        datagram: (SocketAddr, SocketAddr, Option<usize>, u64),
        p: f64,
    ) -> bool {
        if now != self.step {
            self.step = now;
            self.seen.clear();
        }
        let ordinal = self.seen.entry(datagram).or_default();
        *ordinal += 1;
        let (from, to, len, identity) = datagram;
        let mut h = self.seed ^ (now - start).as_micros() as u64;
        for word in [
            u64::from(from.port()),
            u64::from(to.port()),
            len.map_or(u64::MAX, |len| len as u64),
            identity,
            *ordinal,
        ] {
            h = splitmix64(h ^ word);
        }
        for ip in [from.ip(), to.ip()] {
            if let std::net::IpAddr::V4(v4) = ip {
                h = splitmix64(h ^ u64::from(u32::from(v4)));
            }
        }
        (h % 10_000) as f64 / 10_000.0 < p
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash step.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
