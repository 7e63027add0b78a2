//! An RTP header (RFC 3550) with one-byte header extensions (RFC 8285), written into a
//! caller's buffer: the media path builds each packet's header without allocating.

/// The fixed header's fields and the extensions to carry.
#[derive(Debug, Clone, Copy)]
pub struct RtpHeader<'a> {
    /// The marker bit (a video frame's last packet).
    pub marker: bool,
    /// The payload type the SDP negotiated.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// One-byte extensions: `(id, value)`, id 1 to 14, value 1 to 16 bytes. Others are
    /// skipped (RFC 8285 4.2: 15 is reserved, and a longer value needs the two-byte form).
    pub extensions: &'a [(u8, &'a [u8])],
}

impl RtpHeader<'_> {
    /// Appends the header to `out`; returns its length in bytes (a multiple of 4).
    pub fn write(&self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let valid =
            |(id, value): &&(u8, &[u8])| (1..=14).contains(id) && (1..=16).contains(&value.len());
        let has_extensions = self.extensions.iter().any(|e| valid(&e));
        out.push(0x80 | if has_extensions { 0x10 } else { 0 });
        out.push(if self.marker { 0x80 } else { 0 } | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        if has_extensions {
            out.extend_from_slice(&[0xbe, 0xde, 0, 0]);
            let body = out.len();
            for (id, value) in self.extensions.iter().filter(valid) {
                out.push((id << 4) | (value.len() as u8 - 1));
                out.extend_from_slice(value);
            }
            while !(out.len() - body).is_multiple_of(4) {
                out.push(0);
            }
            let words = ((out.len() - body) / 4) as u16;
            out[body - 2..body].copy_from_slice(&words.to_be_bytes());
        }
        out.len() - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_without_extensions_is_the_fixed_twelve_bytes() {
        let mut out = Vec::new();
        let header = RtpHeader {
            marker: true,
            payload_type: 96,
            sequence: 0x1234,
            timestamp: 0xdead_beef,
            ssrc: 0x0102_0304,
            extensions: &[],
        };
        assert_eq!(header.write(&mut out), 12);
        assert_eq!(
            out,
            [0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]
        );
    }

    #[test]
    fn extensions_are_one_byte_elements_padded_to_a_word_and_invalid_ones_are_skipped() {
        let mut out = Vec::new();
        let header = RtpHeader {
            marker: false,
            payload_type: 111,
            sequence: 1,
            timestamp: 2,
            ssrc: 3,
            extensions: &[(4, b"0"), (15, b"reserved"), (10, b"f"), (5, &[0, 7])],
        };
        let len = header.write(&mut out);
        assert_eq!(len, out.len());
        assert_eq!(out[0], 0x90, "version 2 with the extension bit");
        assert_eq!(&out[12..16], &[0xbe, 0xde, 0, 2], "two words of extensions");
        assert_eq!(&out[16..], &[0x40, b'0', 0xa0, b'f', 0x51, 0, 7, 0]);
    }
}
