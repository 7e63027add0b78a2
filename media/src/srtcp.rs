//! SRTCP protection of the RTCP packets this path writes, and opening of those it
//! reads (RFC 7714 9: AEAD-AES-GCM).
//!
//! The packets go out under a sender SSRC of their own, so their SRTCP index runs apart
//! from the one str0m keeps for the RTCP it still sends: a receiver keeps one replay
//! window per SSRC, and two writers on one SSRC would refuse each other's packets.

use std::collections::HashMap;

use str0m::crypto::CryptoProvider;

use crate::index::ReceivedIndex;
use crate::keys::Profile;
use crate::srtp::{
    Gcm, LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT, ProtectError, TAG_LEN, UnprotectError,
};

/// Sender SSRCs whose replay windows are kept; past this many, they start over.
const MOST_SENDERS: usize = 1_024;

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
        Self {
            gcm: rtcp_gcm(provider, profile, master_key, master_salt),
            next_index: 0,
        }
    }

    /// Protects one RTCP compound packet (its first packet's sender SSRC at bytes 4 to
    /// 7) and appends the SRTCP packet to `out`: the first 8 bytes in the clear, the
    /// rest encrypted, the tag, then the E flag with the index (RFC 7714 9.2).
    pub fn protect(&mut self, compound: &[u8], out: &mut Vec<u8>) -> Result<(), ProtectError> {
        let index = self.next_index;
        self.next_index = (index + 1) & !ENCRYPTED;
        seal_compound(&mut self.gcm, compound, index, out)
    }
}

/// The RTCP session key and salt (labels 3 and 5) of a master key and salt.
fn rtcp_gcm(
    provider: &CryptoProvider,
    profile: Profile,
    master_key: &[u8],
    master_salt: &[u8],
) -> Gcm {
    let labels = (LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT);
    Gcm::new(provider, profile, master_key, master_salt, labels)
}

/// Seals `compound` under SRTCP `index` and appends the SRTCP packet to `out`: the
/// first 8 bytes in the clear, the rest encrypted, the tag, then the E flag with the
/// index (RFC 7714 9.2).
fn seal_compound(
    gcm: &mut Gcm,
    compound: &[u8],
    index: u32,
    out: &mut Vec<u8>,
) -> Result<(), ProtectError> {
    if compound.len() < 8 {
        return Err(ProtectError::BadHeader);
    }
    let ssrc = u32::from_be_bytes([compound[4], compound[5], compound[6], compound[7]]);
    let iv = gcm.iv(ssrc, u64::from(index));
    let trailer = (ENCRYPTED | index).to_be_bytes();
    let mut aad = [0u8; 12];
    aad[..8].copy_from_slice(&compound[..8]);
    aad[8..].copy_from_slice(&trailer);
    let start = out.len();
    out.extend_from_slice(&compound[..8]);
    out.resize(start + compound.len() + TAG_LEN, 0);
    let sealed = &mut out[start + 8..];
    if let Err(error) = gcm.seal(&iv, &aad, &compound[8..], sealed) {
        out.truncate(start);
        return Err(error);
    }
    out.extend_from_slice(&trailer);
    Ok(())
}

/// Opens one SRTCP packet into `out` (cleared first), without a replay check; its
/// sender SSRC and index.
fn open_compound(
    gcm: &mut Gcm,
    packet: &[u8],
    out: &mut Vec<u8>,
) -> Result<(u32, u32), UnprotectError> {
    out.clear();
    if packet.len() < 8 + TAG_LEN + 4 {
        return Err(UnprotectError::TooShort);
    }
    let (body, trailer) = packet.split_at(packet.len() - 4);
    let word = u32::from_be_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    if word & ENCRYPTED == 0 {
        // Authenticated only (RFC 7714 9.3): never sent by the browsers or str0m.
        return Err(UnprotectError::Authentication);
    }
    let index = word & !ENCRYPTED;
    let ssrc = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
    let iv = gcm.iv(ssrc, u64::from(index));
    let mut aad = [0u8; 12];
    aad[..8].copy_from_slice(&body[..8]);
    aad[8..].copy_from_slice(trailer);
    out.extend_from_slice(&body[..8]);
    out.resize(body.len() - TAG_LEN, 0);
    if let Err(error) = gcm.open(&iv, &[&aad], &body[8..], &mut out[8..]) {
        out.clear();
        return Err(error);
    }
    Ok((ssrc, index))
}

/// Changes the RTCP that str0m protected for one sending side: opens each packet with
/// that side's keys and seals the changed compound under the same index. The packet
/// str0m sealed is never sent, so no (SSRC, index) pair is used twice on the wire,
/// and the receiver's replay windows see str0m's numbering unchanged. (The SFU's send
/// path beside str0m writes its streams' sender information into str0m's sender
/// reports this way.)
pub struct RtcpRewriter {
    gcm: Gcm,
}

impl std::fmt::Debug for RtcpRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RtcpRewriter")
    }
}

impl RtcpRewriter {
    /// The rewriter for a sending side's master key and salt (`SrtpKeys::sending`).
    pub fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Self {
        Self {
            gcm: rtcp_gcm(provider, profile, master_key, master_salt),
        }
    }

    /// Opens one SRTCP packet of this side into `out`; its index.
    pub fn open(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<u32, UnprotectError> {
        open_compound(&mut self.gcm, packet, out).map(|(_, index)| index)
    }

    /// Seals `compound` under `index` (the one [`RtcpRewriter::open`] returned),
    /// appending the SRTCP packet to `out`.
    pub fn seal_at(
        &mut self,
        compound: &[u8],
        index: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtectError> {
        seal_compound(&mut self.gcm, compound, index & !ENCRYPTED, out)
    }
}

/// Opens the SRTCP packets one remote side sends (`SrtpKeys::receiving`), refusing
/// replays per sender SSRC.
pub struct RtcpUnprotector {
    gcm: Gcm,
    windows: HashMap<u32, ReceivedIndex>,
}

impl std::fmt::Debug for RtcpUnprotector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcpUnprotector")
            .field("senders", &self.windows.len())
            .finish_non_exhaustive()
    }
}

impl RtcpUnprotector {
    /// The unprotector for a remote side's master key and salt.
    pub fn new(
        provider: &CryptoProvider,
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Self {
        Self {
            gcm: rtcp_gcm(provider, profile, master_key, master_salt),
            windows: HashMap::new(),
        }
    }

    /// Checks one SRTCP packet and writes the RTCP compound packet in it to `out`
    /// (cleared first). Nothing is written for a forged, damaged, unencrypted or
    /// replayed packet.
    pub fn unprotect(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), UnprotectError> {
        out.clear();
        if packet.len() < 8 + TAG_LEN + 4 {
            return Err(UnprotectError::TooShort);
        }
        let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let tail = &packet[packet.len() - 4..];
        let word = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let window = self.windows.get(&ssrc).copied().unwrap_or_default();
        if !window.is_fresh(u64::from(word & !ENCRYPTED)) {
            return Err(UnprotectError::Replayed);
        }
        let (ssrc, index) = open_compound(&mut self.gcm, packet, out)?;
        let index = u64::from(index);
        if self.windows.len() >= MOST_SENDERS && !self.windows.contains_key(&ssrc) {
            self.windows.clear();
        }
        self.windows.entry(ssrc).or_default().accept(index);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{RtcpProtector, RtcpRewriter, RtcpUnprotector};
    use crate::keys::Profile;
    use crate::rtcp::write_nack;
    use crate::srtp::UnprotectError;

    fn pair() -> (RtcpProtector, RtcpUnprotector) {
        let provider = str0m::crypto::from_feature_flags();
        let (key, salt) = ([7u8; 16], [9u8; 12]);
        let profile = Profile::AeadAes128Gcm;
        (
            RtcpProtector::new(&provider, profile, &key, &salt),
            RtcpUnprotector::new(&provider, profile, &key, &salt),
        )
    }

    #[test]
    fn rtcp_protected_here_opens_once_and_a_replay_or_a_flipped_bit_is_refused() {
        let (mut protector, mut unprotector) = pair();
        let mut nack = Vec::new();
        write_nack(&mut nack, 0x1111, 0x2222, &[10, 11, 40]);
        let mut sealed = Vec::new();
        protector.protect(&nack, &mut sealed).expect("protected");
        let mut opened = Vec::new();
        unprotector.unprotect(&sealed, &mut opened).expect("opened");
        assert_eq!(opened, nack);
        assert_eq!(
            unprotector.unprotect(&sealed, &mut opened),
            Err(UnprotectError::Replayed)
        );
        assert!(opened.is_empty());
        let mut second = Vec::new();
        protector.protect(&nack, &mut second).expect("protected");
        let mut forged = second.clone();
        forged[10] ^= 1;
        assert_eq!(
            unprotector.unprotect(&forged, &mut opened),
            Err(UnprotectError::Authentication)
        );
        unprotector
            .unprotect(&second, &mut opened)
            .expect("the genuine one still opens");
        assert_eq!(opened, nack);
        assert_eq!(
            unprotector.unprotect(&sealed[..20], &mut opened),
            Err(UnprotectError::TooShort)
        );
    }

    #[test]
    fn a_compound_rewritten_under_its_own_index_opens_once_with_the_new_contents() {
        let provider = str0m::crypto::from_feature_flags();
        let (key, salt) = ([7u8; 16], [9u8; 12]);
        let profile = Profile::AeadAes128Gcm;
        let (mut protector, mut unprotector) = pair();
        let mut rewriter = RtcpRewriter::new(&provider, profile, &key, &salt);
        let mut first = Vec::new();
        write_nack(&mut first, 0x1111, 0x2222, &[10]);
        let mut sealed = Vec::new();
        protector.protect(&first, &mut sealed).expect("protected");
        sealed.clear();
        protector.protect(&first, &mut sealed).expect("protected");
        let mut opened = Vec::new();
        let index = rewriter.open(&sealed, &mut opened).expect("opened");
        assert_eq!(index, 1, "the index str0m gave it");
        let mut changed = Vec::new();
        write_nack(&mut changed, 0x1111, 0x2222, &[99]);
        let mut resealed = Vec::new();
        rewriter
            .seal_at(&changed, index, &mut resealed)
            .expect("sealed");
        unprotector
            .unprotect(&resealed, &mut opened)
            .expect("the receiver opens the rewritten packet");
        assert_eq!(opened, changed);
        assert_eq!(
            unprotector.unprotect(&sealed, &mut opened),
            Err(UnprotectError::Replayed),
            "its index is spent: the original could never be used as well"
        );
    }
}
