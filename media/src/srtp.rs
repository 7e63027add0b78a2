//! SRTP protection of RTP packets: RFC 3711's key derivation and RFC 7714's
//! AEAD-AES-GCM, on the AES and GCM of str0m's crypto provider (aws-lc-rs), so the
//! media path adds no crypto library.
//!
//! One [`RtpProtector`] protects every SSRC of one sending side, and one
//! [`RtpUnprotector`] opens every SSRC of one receiving side (SRTP keys are per
//! direction, not per stream). The caller names each packet's 48-bit SRTP index
//! (rollover counter and sequence number, RFC 3711 3.3.1): a sender always knows it, a
//! receiver estimates it ([`crate::index`]).

use str0m::crypto::{AeadAes128GcmCipher, AeadAes256GcmCipher, CryptoProvider};

use crate::keys::Profile;

/// The GCM tag every protected packet carries (RFC 7714: 16 bytes).
pub const TAG_LEN: usize = 16;

/// RFC 3711 4.3.1 key derivation labels this crate derives.
const LABEL_RTP_ENCRYPTION: u8 = 0x00;
const LABEL_RTP_SALT: u8 = 0x02;
/// RTP's session key and salt labels, for [`Gcm::new`].
const RTP_LABELS: (u8, u8) = (LABEL_RTP_ENCRYPTION, LABEL_RTP_SALT);
pub(crate) const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
pub(crate) const LABEL_RTCP_SALT: u8 = 0x05;

/// Why a packet could not be protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectError {
    /// The header length is past the packet's end, or under RTP's fixed 12 bytes.
    BadHeader,
    /// The cipher refused (it does not, for a well-formed input).
    Cipher,
}

/// Why a packet could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnprotectError {
    /// Too short for its header and the tag.
    TooShort,
    /// The tag does not match: forged, damaged, or another key or index.
    Authentication,
    /// Its index was opened before (a replay), or is too far behind to tell.
    Replayed,
}

enum Cipher {
    Aes128(Box<dyn AeadAes128GcmCipher>),
    Aes256(Box<dyn AeadAes256GcmCipher>),
}

/// One direction's AEAD-AES-GCM session key and salt (RFC 7714), for RTP or RTCP.
pub(crate) struct Gcm {
    salt: [u8; 12],
    cipher: Cipher,
}

impl Gcm {
    /// Derives the session key and salt from a master key and salt with the labels of
    /// RTP (0 and 2) or RTCP (3 and 5).
    pub(crate) fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
        labels: (u8, u8),
    ) -> Self {
        let mut salt = [0u8; 12];
        derive(provider, master_key, master_salt, labels.1, &mut salt);
        let srtp = provider.srtp_provider;
        let cipher = match profile {
            Profile::AeadAes128Gcm => {
                let key = session_key(provider, master_key, master_salt, labels.0);
                Cipher::Aes128(srtp.aead_aes_128_gcm().create_cipher(key, true))
            }
            Profile::AeadAes256Gcm => {
                let key = session_key(provider, master_key, master_salt, labels.0);
                Cipher::Aes256(srtp.aead_aes_256_gcm().create_cipher(key, true))
            }
        };
        Self { salt, cipher }
    }

    /// The IV of RFC 7714 8.1 and 9.1: `00 00 | SSRC | counter (48 bits)`, XOR the
    /// session salt (RTP's counter is ROC and SEQ; RTCP's is `00 00`, then the index).
    pub(crate) fn iv(&self, ssrc: u32, counter: u64) -> [u8; 12] {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..12].copy_from_slice(&counter.to_be_bytes()[2..8]);
        for (byte, salt) in iv.iter_mut().zip(self.salt) {
            *byte ^= salt;
        }
        iv
    }

    /// Encrypts `input` into `sealed` (its length plus [`TAG_LEN`]).
    pub(crate) fn seal(
        &mut self,
        iv: &[u8; 12],
        aad: &[u8],
        input: &[u8],
        sealed: &mut [u8],
    ) -> Result<(), ProtectError> {
        let result = match &mut self.cipher {
            Cipher::Aes128(c) => c.encrypt(iv, aad, input, sealed),
            Cipher::Aes256(c) => c.encrypt(iv, aad, input, sealed),
        };
        result.map_err(|_| ProtectError::Cipher)
    }

    /// Checks and decrypts `sealed` (ciphertext and tag) into `out` (at least as long
    /// as the ciphertext); the plaintext's length.
    pub(crate) fn open(
        &mut self,
        iv: &[u8; 12],
        aads: &[&[u8]],
        sealed: &[u8],
        out: &mut [u8],
    ) -> Result<usize, UnprotectError> {
        if sealed.len() < TAG_LEN || out.len() < sealed.len() - TAG_LEN {
            return Err(UnprotectError::TooShort);
        }
        let result = match &mut self.cipher {
            Cipher::Aes128(c) => c.decrypt(iv, aads, sealed, out),
            Cipher::Aes256(c) => c.decrypt(iv, aads, sealed, out),
        };
        result.map_err(|_| UnprotectError::Authentication)
    }
}

/// Protects the RTP packets of one sending side (see the module docs).
pub struct RtpProtector(Gcm);

impl std::fmt::Debug for RtpProtector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RtpProtector")
    }
}

/// RFC 3711 4.3.3: the AES-CM PRF, keyed with the master key, over the master salt with
/// the label at byte 7 (key derivation rate 0, so the index is not mixed in). A 12-byte
/// (GCM) salt is the first 12 of the 14 bytes, as RFC 7714 11 has it.
pub fn derive(
    provider: &CryptoProvider,
    master_key: &[u8],
    master_salt: &[u8],
    label: u8,
    out: &mut [u8],
) {
    let mut input = [0u8; 16];
    let salt = master_salt.len().min(14);
    input[..salt].copy_from_slice(&master_salt[..salt]);
    input[7] ^= label;
    let mut block = [0u8; 32];
    for (round, chunk) in out.chunks_mut(16).enumerate() {
        input[14..].copy_from_slice(&(round as u16).to_be_bytes());
        match master_key.len() {
            32 => provider
                .srtp_provider
                .srtp_aes_256_ecb_round(master_key, &input, &mut block),
            _ => provider
                .srtp_provider
                .srtp_aes_128_ecb_round(master_key, &input, &mut block),
        }
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}

/// A session encryption key of `N` bytes (RFC 3711 4.3.1) for `label`.
fn session_key<const N: usize>(
    provider: &CryptoProvider,
    master_key: &[u8],
    master_salt: &[u8],
    label: u8,
) -> [u8; N] {
    let mut key = [0u8; N];
    derive(provider, master_key, master_salt, label, &mut key);
    key
}

/// The RTP packet's SSRC (bytes 8 to 11), for a packet of at least 12 bytes.
fn ssrc_of(packet: &[u8]) -> u32 {
    u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]])
}

impl RtpProtector {
    /// The protector for a sending side's master key and salt (`SrtpKeys::sending`).
    pub fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Self {
        Self(Gcm::new(
            provider,
            profile,
            master_key,
            master_salt,
            RTP_LABELS,
        ))
    }

    /// Protects `packet` (its first `header_len` bytes the RTP header with extensions,
    /// authenticated in the clear; the rest the payload, encrypted) at SRTP `index`, and
    /// appends the SRTP packet to `out`.
    pub fn protect(
        &mut self,
        packet: &[u8],
        header_len: usize,
        index: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtectError> {
        if header_len > packet.len() {
            return Err(ProtectError::BadHeader);
        }
        let (header, payload) = packet.split_at(header_len);
        self.protect_parts(header, payload, index, out)
    }

    /// As [`RtpProtector::protect`], with the header and the payload apart: a
    /// forwarded payload is sealed from where it lies, not copied behind its new
    /// header first.
    pub fn protect_parts(
        &mut self,
        header: &[u8],
        payload: &[u8],
        index: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtectError> {
        if header.len() < 12 {
            return Err(ProtectError::BadHeader);
        }
        let header_len = header.len();
        let iv = self.0.iv(ssrc_of(header), index);
        let start = out.len();
        out.extend_from_slice(header);
        out.resize(start + header_len + payload.len() + TAG_LEN, 0);
        let sealed = &mut out[start + header_len..];
        self.0.seal(&iv, header, payload, sealed).inspect_err(|_| {
            out.truncate(start);
        })
    }
}

/// Opens the SRTP packets one remote side sends (`SrtpKeys::receiving`): every SSRC
/// of it, each at the index the caller estimated ([`crate::index`]).
pub struct RtpUnprotector(Gcm);

impl std::fmt::Debug for RtpUnprotector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RtpUnprotector")
    }
}

impl RtpUnprotector {
    /// The unprotector for a remote side's master key and salt.
    pub fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Self {
        Self(Gcm::new(
            provider,
            profile,
            master_key,
            master_salt,
            RTP_LABELS,
        ))
    }

    /// Checks `packet` (SRTP, its header `header_len` bytes long) at `index` and
    /// decrypts its payload into `payload` (its old contents replaced). `payload` is
    /// left empty when the tag does not match.
    pub fn unprotect(
        &mut self,
        packet: &[u8],
        header_len: usize,
        index: u64,
        payload: &mut Vec<u8>,
    ) -> Result<(), UnprotectError> {
        if header_len < 12 || packet.len() < header_len + TAG_LEN {
            return Err(UnprotectError::TooShort);
        }
        let iv = self.0.iv(ssrc_of(packet), index);
        let (header, sealed) = packet.split_at(header_len);
        // Opening overwrites every byte, so a buffer kept from the last packet is only
        // cut or grown to length, not zeroed first (memset was 1% of the SFU's time and
        // 3% of the generator's, this zeroing part of it).
        let len = sealed.len() - TAG_LEN;
        payload.truncate(len);
        payload.resize(len, 0);
        let opened = self.0.open(&iv, &[header], sealed, payload);
        if opened.is_err() {
            payload.clear();
        }
        opened.map(|_| ())
    }
}

#[cfg(test)]
#[path = "srtp_test.rs"]
mod tests;
