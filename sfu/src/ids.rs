//! LiveKit-style identifiers: a kind prefix (`PA_`, `TR_`, `RM_`) and 12 base-62
//! characters, short enough that `PA_…|TR_…` fits an SDP `msid` token (64 characters).
//!
//! The core draws them from an injected [`Sids`] generator: seeded from the OS in
//! production, from the test's seed in a simulation, so the same seed names every room,
//! participant and track the same. (Sids are labels, not secrets: every participant of
//! a room sees them; tokens are what authorise.)

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh identifier with `prefix` (for example `"PA_"`), from the OS's randomness.
pub fn new_sid(prefix: &str) -> String {
    Sids::random().next(prefix)
}

/// A source of sids: SplitMix64 from a seed.
#[derive(Debug, Clone)]
pub struct Sids {
    state: u64,
}

impl Sids {
    /// Sids that follow from `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Sids seeded from the OS's randomness.
    pub fn random() -> Self {
        Self::seeded(uuid::Uuid::new_v4().as_u64_pair().0)
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next sid with `prefix`.
    pub fn next(&mut self, prefix: &str) -> String {
        let mut value = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        let mut sid = String::with_capacity(prefix.len() + 12);
        sid.push_str(prefix);
        for _ in 0..12 {
            sid.push(char::from(ALPHABET[(value % 62) as usize]));
            value /= 62;
        }
        sid
    }

    /// A participant sid.
    pub(crate) fn participant(&mut self) -> String {
        self.next("PA_")
    }

    /// A track sid.
    pub(crate) fn track(&mut self) -> String {
        self.next("TR_")
    }

    /// A room sid.
    pub(crate) fn room(&mut self) -> String {
        self.next("RM_")
    }
}
