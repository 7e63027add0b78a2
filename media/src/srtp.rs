//! SRTP protection of RTP packets: RFC 3711's key derivation and RFC 7714's
//! AEAD-AES-GCM, on the AES and GCM of str0m's crypto provider (aws-lc-rs), so the
//! media path adds no crypto library.
//!
//! One [`RtpProtector`] protects every SSRC of one sending side (SRTP keys are per
//! direction, not per stream). The caller names each packet's 48-bit SRTP index
//! (rollover counter and sequence number, RFC 3711 3.3.1): a sender always knows it.

use str0m::crypto::{AeadAes128GcmCipher, AeadAes256GcmCipher, CryptoProvider};

use crate::keys::Profile;

/// The GCM tag every protected packet carries (RFC 7714: 16 bytes).
pub const TAG_LEN: usize = 16;

/// RFC 3711 4.3.1 key derivation labels this crate derives.
const LABEL_RTP_ENCRYPTION: u8 = 0x00;
const LABEL_RTP_SALT: u8 = 0x02;

/// Why a packet could not be protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectError {
    /// The header length is past the packet's end, or under RTP's fixed 12 bytes.
    BadHeader,
    /// The cipher refused (it does not, for a well-formed input).
    Cipher,
}

enum Cipher {
    Aes128(Box<dyn AeadAes128GcmCipher>),
    Aes256(Box<dyn AeadAes256GcmCipher>),
}

/// Protects the RTP packets of one sending side (see the module docs).
pub struct RtpProtector {
    salt: [u8; 12],
    cipher: Cipher,
}

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

/// The RTP session encryption key of `N` bytes (RFC 3711 4.3.1, label 0).
fn session_key<const N: usize>(
    provider: &CryptoProvider,
    master_key: &[u8],
    master_salt: &[u8],
) -> [u8; N] {
    let mut key = [0u8; N];
    derive(
        provider,
        master_key,
        master_salt,
        LABEL_RTP_ENCRYPTION,
        &mut key,
    );
    key
}

impl RtpProtector {
    /// The protector for a sending side's master key and salt (`SrtpKeys::sending`).
    pub fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Self {
        let mut salt = [0u8; 12];
        derive(provider, master_key, master_salt, LABEL_RTP_SALT, &mut salt);
        let srtp = provider.srtp_provider;
        let cipher = match profile {
            Profile::AeadAes128Gcm => {
                let key = session_key(provider, master_key, master_salt);
                Cipher::Aes128(srtp.aead_aes_128_gcm().create_cipher(key, true))
            }
            Profile::AeadAes256Gcm => {
                let key = session_key(provider, master_key, master_salt);
                Cipher::Aes256(srtp.aead_aes_256_gcm().create_cipher(key, true))
            }
        };
        Self { salt, cipher }
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
        if header_len < 12 || header_len > packet.len() {
            return Err(ProtectError::BadHeader);
        }
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        let iv = self.iv(ssrc, index);
        let (header, payload) = packet.split_at(header_len);
        let start = out.len();
        out.extend_from_slice(header);
        out.resize(start + packet.len() + TAG_LEN, 0);
        let sealed = &mut out[start + header_len..];
        let result = match &mut self.cipher {
            Cipher::Aes128(c) => c.encrypt(&iv, header, payload, sealed),
            Cipher::Aes256(c) => c.encrypt(&iv, header, payload, sealed),
        };
        result.map_err(|_| {
            out.truncate(start);
            ProtectError::Cipher
        })
    }

    /// RFC 7714 8.1: `00 00 | SSRC | ROC | SEQ`, XOR the session salt.
    fn iv(&self, ssrc: u32, index: u64) -> [u8; 12] {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..12].copy_from_slice(&index.to_be_bytes()[2..8]);
        for (byte, salt) in iv.iter_mut().zip(self.salt) {
            *byte ^= salt;
        }
        iv
    }
}

#[cfg(test)]
#[path = "srtp_test.rs"]
mod tests;
