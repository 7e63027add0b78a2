//! What the client reads back from its own SDP.

/// The track id that `sdp` announces for the section `mid` (its `a=msid:<stream> <track>`
/// line), if the section has one.
///
/// A browser names a sender's track in the SDP when the section is created; a section
/// negotiated before it had a track (`addTransceiver` with a kind, filled later with
/// `replaceTrack`) keeps that id for good, so a server that matches announced tracks
/// to sections by id must be told this one, not the captured track's.
pub fn section_track_id<'a>(sdp: &'a str, mid: &str) -> Option<&'a str> {
    let mut in_section = false;
    let mut track_id = None;
    for line in sdp.lines().map(str::trim_end) {
        if line.starts_with("m=") {
            if in_section {
                break;
            }
            track_id = None;
        } else if let Some(found) = line.strip_prefix("a=mid:") {
            in_section = found == mid;
        } else if let Some(msid) = line.strip_prefix("a=msid:") {
            track_id = msid.split_whitespace().nth(1);
        }
    }
    if in_section { track_id } else { None }
}

#[cfg(test)]
mod tests {
    use super::section_track_id;

    const OFFER: &str = "v=0\r\n\
        a=msid-semantic: WMS s1\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
        a=mid:0\r\n\
        a=recvonly\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
        a=msid:s1 video-sender\r\n\
        a=mid:1\r\n\
        a=sendonly\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
        a=mid:2\r\n\
        a=msid:s1 audio-sender\r\n\
        a=ssrc:1 msid:s1 audio-sender\r\n";

    #[test]
    fn the_track_id_of_a_section_is_read_wherever_its_msid_line_stands() {
        assert_eq!(section_track_id(OFFER, "1"), Some("video-sender"));
        assert_eq!(section_track_id(OFFER, "2"), Some("audio-sender"));
    }

    #[test]
    fn a_section_without_msid_or_an_unknown_mid_has_no_track_id() {
        assert_eq!(section_track_id(OFFER, "0"), None);
        assert_eq!(section_track_id(OFFER, "7"), None);
        assert_eq!(section_track_id("", "0"), None);
    }
}
