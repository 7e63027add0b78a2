//! The SRTP keys of a peer's DTLS handshake, without a fork of str0m.
//!
//! str0m's crypto is pluggable (`RtcConfig::set_crypto_provider`). [`capturing_provider`]
//! is str0m's own provider (aws-lc-rs) with one change: the DTLS instance of an `Rtc`
//! built inside [`with_key_capture`] is wrapped, and the keying material it exports
//! (RFC 5764) lands in that peer's [`KeySlot`] as it passes on to str0m, which still
//! protects its own RTCP and whatever RTP it sends.
//!
//! Why a thread-local and not a provider per peer: str0m's provider holds
//! `&'static dyn` references, so a provider per peer would leak one per peer. The
//! capture is armed for the one `Rtc` built inside the closure, on this thread.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use str0m::crypto::CryptoError;
use str0m::crypto::CryptoProvider;
use str0m::crypto::dtls::{
    DtlsCert, DtlsImplError, DtlsInstance, DtlsOutput, DtlsProvider, DtlsVersion, ProtocolVersion,
    SrtpProfile,
};

/// The SRTP protection profiles this crate protects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// AEAD_AES_128_GCM (RFC 7714): 16-byte master key, 12-byte master salt.
    AeadAes128Gcm,
    /// AEAD_AES_256_GCM (RFC 7714): 32-byte master key, 12-byte master salt.
    AeadAes256Gcm,
}

impl Profile {
    /// The master key's length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Profile::AeadAes128Gcm => 16,
            Profile::AeadAes256Gcm => 32,
        }
    }

    /// The master salt's length in bytes.
    pub fn salt_len(self) -> usize {
        12
    }
}

/// What one DTLS handshake exported for SRTP, and which side of it this peer was.
#[derive(Clone)]
pub struct SrtpKeys {
    /// The negotiated profile, `None` when it is one this crate does not protect with
    /// (AES_CM_128_HMAC_SHA1_80): such a peer stays on str0m's path.
    pub profile: Option<Profile>,
    /// `client key | server key | client salt | server salt` (RFC 5764, 4.2).
    material: Vec<u8>,
    /// This peer was the DTLS client (`a=setup:active`).
    pub active: bool,
}

impl fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys themselves.
        f.debug_struct("SrtpKeys")
            .field("profile", &self.profile)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl SrtpKeys {
    /// Keys from raw material (tests; a handshake's come through [`KeySlot`]).
    pub fn new(profile: Option<Profile>, material: Vec<u8>, active: bool) -> Self {
        Self {
            profile,
            material,
            active,
        }
    }

    /// The master key and salt this peer sends with: the client's write key and salt
    /// when it was the client, the server's otherwise. `None` for an unsupported
    /// profile or material of the wrong length.
    pub fn sending(&self) -> Option<(Profile, &[u8], &[u8])> {
        self.half(self.active)
    }

    /// The master key and salt this peer's remote side sends with.
    pub fn receiving(&self) -> Option<(Profile, &[u8], &[u8])> {
        self.half(!self.active)
    }

    fn half(&self, client: bool) -> Option<(Profile, &[u8], &[u8])> {
        let profile = self.profile?;
        let (k, s) = (profile.key_len(), profile.salt_len());
        if self.material.len() != 2 * (k + s) {
            return None;
        }
        let (key_at, salt_at) = if client { (0, 2 * k) } else { (k, 2 * k + s) };
        Some((
            profile,
            &self.material[key_at..key_at + k],
            &self.material[salt_at..salt_at + s],
        ))
    }
}

/// Where one peer's keys land once its handshake completes.
#[derive(Debug, Clone, Default)]
pub struct KeySlot(Arc<Mutex<Option<SrtpKeys>>>);

impl KeySlot {
    /// The keys, once the handshake exported them.
    pub fn get(&self) -> Option<SrtpKeys> {
        self.0.lock().ok().and_then(|keys| keys.clone())
    }

    fn put(&self, keys: SrtpKeys) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(keys);
        }
    }
}

thread_local! {
    /// The slot the next DTLS instance made on this thread reports to.
    static ARMED: RefCell<Option<KeySlot>> = const { RefCell::new(None) };
}

/// Runs `build` (which builds one `Rtc` with [`capturing_provider`]) and returns what it
/// built with the slot its keys will land in.
pub fn with_key_capture<T>(build: impl FnOnce() -> T) -> (T, KeySlot) {
    let slot = KeySlot::default();
    ARMED.with(|armed| *armed.borrow_mut() = Some(slot.clone()));
    let built = build();
    ARMED.with(|armed| armed.borrow_mut().take());
    (built, slot)
}

/// str0m's default provider with key capture (see the module docs). One per process.
pub fn capturing_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    static DTLS: OnceLock<CapturingDtlsProvider> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let base = str0m::crypto::from_feature_flags();
            let dtls: &'static CapturingDtlsProvider = DTLS.get_or_init(|| CapturingDtlsProvider {
                inner: base.dtls_provider,
            });
            Arc::new(CryptoProvider {
                dtls_provider: dtls,
                ..base
            })
        })
        .clone()
}

struct CapturingDtlsProvider {
    inner: &'static dyn DtlsProvider,
}

impl fmt::Debug for CapturingDtlsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CapturingDtlsProvider")
    }
}

impl DtlsProvider for CapturingDtlsProvider {
    fn generate_certificate(&self) -> Option<DtlsCert> {
        self.inner.generate_certificate()
    }

    fn new_dtls(
        &self,
        cert: &DtlsCert,
        now: Instant,
        dtls_version: DtlsVersion,
        mtu: Option<usize>,
    ) -> Result<Box<dyn DtlsInstance>, CryptoError> {
        let inner = self.inner.new_dtls(cert, now, dtls_version, mtu)?;
        Ok(match ARMED.with(|armed| armed.borrow_mut().take()) {
            Some(slot) => Box::new(CapturingDtls { inner, slot }),
            None => inner,
        })
    }

    fn is_test(&self) -> bool {
        self.inner.is_test()
    }
}

struct CapturingDtls {
    inner: Box<dyn DtlsInstance>,
    slot: KeySlot,
}

impl fmt::Debug for CapturingDtls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CapturingDtls")
    }
}

impl DtlsInstance for CapturingDtls {
    fn set_active(&mut self, active: bool) {
        self.inner.set_active(active)
    }

    fn handle_packet(&mut self, packet: &[u8]) -> Result<(), DtlsImplError> {
        self.inner.handle_packet(packet)
    }

    fn poll_output<'a>(&mut self, buf: &'a mut [u8]) -> DtlsOutput<'a> {
        let output = self.inner.poll_output(buf);
        if let DtlsOutput::KeyingMaterial(material, profile) = &output {
            let profile = match profile {
                SrtpProfile::AEAD_AES_128_GCM => Some(Profile::AeadAes128Gcm),
                SrtpProfile::AEAD_AES_256_GCM => Some(Profile::AeadAes256Gcm),
                _ => None,
            };
            let active = self.inner.is_active();
            self.slot
                .put(SrtpKeys::new(profile, material.to_vec(), active));
        }
        output
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), DtlsImplError> {
        self.inner.handle_timeout(now)
    }

    fn send_application_data(&mut self, data: &[u8]) -> Result<usize, DtlsImplError> {
        self.inner.send_application_data(data)
    }

    fn is_active(&self) -> bool {
        self.inner.is_active()
    }

    fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner.protocol_version()
    }

    fn is_closing(&self) -> bool {
        self.inner.is_closing()
    }

    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn close(&mut self) -> Result<(), DtlsImplError> {
        self.inner.close()
    }
}
