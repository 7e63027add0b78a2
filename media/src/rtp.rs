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

/// A received RTP packet's header, read in place (RFC 3550 5.1, with RFC 8285's one-
/// and two-byte header extensions).
#[derive(Debug, Clone, Copy)]
pub struct ReadHeader<'a> {
    /// The marker bit.
    pub marker: bool,
    /// Padding follows the payload (its last byte counts it, RFC 3550 5.1).
    pub padding: bool,
    /// The payload type.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The SSRC.
    pub ssrc: u32,
    /// The header's length with CSRCs and extensions: where the payload starts.
    pub header_len: usize,
    /// The extension block (after its 4-byte preamble), empty without one.
    extensions: &'a [u8],
    /// The block is in the two-byte form (`0x100X`), not the one-byte (`0xBEDE`).
    two_byte: bool,
}

impl<'a> ReadHeader<'a> {
    /// Reads the header of `packet`; `None` if it is not RTP version 2 or is cut short.
    pub fn parse(packet: &'a [u8]) -> Option<Self> {
        if packet.len() < 12 || packet[0] >> 6 != 2 {
            return None;
        }
        let csrcs = usize::from(packet[0] & 0x0f);
        let mut header_len = 12 + 4 * csrcs;
        let (mut extensions, mut two_byte) = (&[][..], false);
        if packet[0] & 0x10 != 0 {
            let preamble = packet.get(header_len..header_len + 4)?;
            let profile = u16::from_be_bytes([preamble[0], preamble[1]]);
            let words = usize::from(u16::from_be_bytes([preamble[2], preamble[3]]));
            let body = header_len + 4;
            extensions = packet.get(body..body + 4 * words)?;
            two_byte = profile & 0xfff0 == 0x1000;
            if profile != 0xbede && !two_byte {
                extensions = &[];
            }
            header_len = body + 4 * words;
        }
        if header_len > packet.len() {
            return None;
        }
        Some(Self {
            marker: packet[1] & 0x80 != 0,
            padding: packet[0] & 0x20 != 0,
            payload_type: packet[1] & 0x7f,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
            header_len,
            extensions,
            two_byte,
        })
    }

    /// The value of header extension `id`, if the packet carries it.
    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        let block = self.extensions;
        let mut at = 0;
        while at < block.len() {
            let (ext_id, len, value_at) = if self.two_byte {
                let ext_id = block[at];
                if ext_id == 0 {
                    at += 1;
                    continue;
                }
                (ext_id, usize::from(*block.get(at + 1)?), at + 2)
            } else {
                let byte = block[at];
                if byte == 0 {
                    at += 1;
                    continue;
                }
                let ext_id = byte >> 4;
                if ext_id == 15 {
                    return None;
                }
                (ext_id, usize::from(byte & 0x0f) + 1, at + 1)
            };
            let value = block.get(value_at..value_at + len)?;
            if ext_id == id {
                return Some(value);
            }
            at = value_at + len;
        }
        None
    }
}

/// The payload of a packet without its padding: `None` when the padding count is past
/// the payload (a malformed packet).
pub fn strip_padding(payload: &[u8], padding: bool) -> Option<&[u8]> {
    if !padding {
        return Some(payload);
    }
    let count = usize::from(*payload.last()?);
    if count == 0 || count > payload.len() {
        return None;
    }
    Some(&payload[..payload.len() - count])
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

    #[test]
    fn a_written_header_reads_back_with_its_extensions() {
        let mut out = Vec::new();
        let header = RtpHeader {
            marker: true,
            payload_type: 100,
            sequence: 65_535,
            timestamp: 7,
            ssrc: 0xfeed_beef,
            extensions: &[(1, &[0x85]), (3, &[0x01, 0x02])],
        };
        let len = header.write(&mut out);
        out.extend_from_slice(&[1, 2, 3, 0, 0, 3]);
        let read = ReadHeader::parse(&out).unwrap();
        assert!(read.marker && !read.padding);
        assert_eq!(
            (read.payload_type, read.sequence, read.timestamp),
            (100, 65_535, 7)
        );
        assert_eq!((read.ssrc, read.header_len), (0xfeed_beef, len));
        assert_eq!(read.extension(1), Some(&[0x85][..]));
        assert_eq!(read.extension(3), Some(&[1, 2][..]));
        assert_eq!(read.extension(2), None);
        assert_eq!(strip_padding(&out[len..], true), Some(&[1, 2, 3][..]));
        assert_eq!(
            strip_padding(&[9, 7], true),
            None,
            "padding past the payload"
        );
    }

    #[test]
    fn two_byte_extensions_and_csrcs_are_read_and_a_cut_header_refused() {
        let mut packet = vec![0x91, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9];
        packet.extend_from_slice(&[0x10, 0x00, 0, 2, 7, 3, 0xaa, 0xbb, 0xcc, 0, 0, 0]);
        packet.push(0x42);
        let read = ReadHeader::parse(&packet).unwrap();
        assert_eq!(read.header_len, 28);
        assert_eq!(read.extension(7), Some(&[0xaa, 0xbb, 0xcc][..]));
        assert!(ReadHeader::parse(&packet[..20]).is_none());
    }
}
