//! SRTCP protection of the RTCP packets this path writes (RFC 7714 9: AEAD-AES-GCM).
//!
//! The packets go out under a sender SSRC of their own, so their SRTCP index runs apart
//! from the one str0m keeps for the RTCP it still sends: a receiver keeps one replay
//! window per SSRC, and two writers on one SSRC would refuse each other's packets.

use str0m::crypto::CryptoProvider;

use crate::keys::Profile;
use crate::srtp::{Gcm, LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT, ProtectError, TAG_LEN};

/// The E flag of the SRTCP index word: the packet is encrypted.
const ENCRYPTED: u32 = 1 << 31;

/// Protects the RTCP packets of one sending side, numbering them itself.
pub struct RtcpProtector {
    gcm: Gcm,
    /// The next SRTCP index (31 bits).
    next_index: u32,
}

impl std::fmt::Debug for RtcpProtector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcpProtector")
            .field("next_index", &self.next_index)
            .finish_non_exhaustive()
    }
}

impl RtcpProtector {
    /// The protector for a sending side's master key and salt (`SrtpKeys::sending`).
    pub fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Self {
        let labels = (LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT);
        Self {
            gcm: Gcm::new(provider, profile, master_key, master_salt, labels),
            next_index: 0,
        }
    }

    /// Protects one RTCP compound packet (its first packet's sender SSRC at bytes 4 to
    /// 7) and appends the SRTCP packet to `out`: the first 8 bytes in the clear, the
    /// rest encrypted, the tag, then the E flag with the index (RFC 7714 9.2).
    pub fn protect(&mut self, compound: &[u8], out: &mut Vec<u8>) -> Result<(), ProtectError> {
        if compound.len() < 8 {
            return Err(ProtectError::BadHeader);
        }
        let index = self.next_index;
        self.next_index = (index + 1) & !ENCRYPTED;
        let ssrc = u32::from_be_bytes([compound[4], compound[5], compound[6], compound[7]]);
        let iv = self.gcm.iv(ssrc, u64::from(index));
        let trailer = (ENCRYPTED | index).to_be_bytes();
        let mut aad = [0u8; 12];
        aad[..8].copy_from_slice(&compound[..8]);
        aad[8..].copy_from_slice(&trailer);
        let start = out.len();
        out.extend_from_slice(&compound[..8]);
        out.resize(start + compound.len() + TAG_LEN, 0);
        let sealed = &mut out[start + 8..];
        if let Err(error) = self.gcm.seal(&iv, &aad, &compound[8..], sealed) {
            out.truncate(start);
            return Err(error);
        }
        out.extend_from_slice(&trailer);
        Ok(())
    }
}
