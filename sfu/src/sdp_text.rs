//! Text-level edits of the SDP answers the SFU sends in the single-peer-connection flow.
//!
//! In that flow (`/rtc/v1`) the browser is always the offerer: it pre-adds `recvonly`
//! transceivers, and the SFU decides in each answer which of them carries which remote
//! track. `livekit-client` finds the track through the answer's `a=msid:PA_…|TR_… TR_…`
//! (and `mid_to_track_id`). str0m answers a `recvonly` section as `sendonly` with a
//! random msid and has no API to choose it, so the answer text is edited here: assigned
//! sections get the track's msid, unassigned ones become `inactive` (which also keeps the
//! browser from announcing tracks that carry nothing), or for a client that handles
//! Bedside's open sections, stay `sendonly` with no msid ([`Spare::Open`]). str0m itself is unaffected: the
//! msid is only a label for the remote side.

use std::collections::HashMap;

/// Media kind of an m-section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

/// One m-section the SFU sends on (`a=sendonly` in its own answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSection {
    /// The section's `a=mid`.
    pub mid: String,
    /// Audio or video.
    pub kind: SectionKind,
}

struct Section<'a> {
    lines: Vec<&'a str>,
}

impl Section<'_> {
    fn kind(&self) -> Option<SectionKind> {
        let first = self.lines.first()?;
        if first.starts_with("m=audio") {
            Some(SectionKind::Audio)
        } else if first.starts_with("m=video") {
            Some(SectionKind::Video)
        } else {
            None
        }
    }

    fn mid(&self) -> Option<&str> {
        self.lines.iter().find_map(|l| l.strip_prefix("a=mid:"))
    }

    fn is_sendonly(&self) -> bool {
        self.lines.contains(&"a=sendonly")
    }
}

fn split(sdp: &str) -> (Vec<&str>, Vec<Section<'_>>) {
    let mut session = Vec::new();
    let mut sections: Vec<Section<'_>> = Vec::new();
    for line in sdp.lines().filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            sections.push(Section { lines: vec![line] });
        } else if let Some(section) = sections.last_mut() {
            section.lines.push(line);
        } else {
            session.push(line);
        }
    }
    (session, sections)
}

/// The audio/video sections an answer sends on, in SDP order.
pub fn send_sections(sdp: &str) -> Vec<SendSection> {
    let (_, sections) = split(sdp);
    sections
        .iter()
        .filter(|s| s.is_sendonly())
        .filter_map(|s| {
            Some(SendSection {
                mid: s.mid()?.to_string(),
                kind: s.kind()?,
            })
        })
        .collect()
}

/// The first `a=mid` of a description (ICE candidates are signalled against it).
pub fn first_mid(sdp: &str) -> Option<String> {
    let (_, sections) = split(sdp);
    sections.first().and_then(|s| s.mid()).map(str::to_string)
}

/// What an answer says of a `sendonly` section that carries no track yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spare {
    /// `a=inactive`: nothing may arrive there until a later answer names a track
    /// (what `livekit-client` expects).
    Inactive,
    /// `a=sendonly` with no msid: the SFU may bind a track to it at any moment and say
    /// so out of band (Bedside's open sections, `bedside_signal::ext`). The browser
    /// creates the receiver's track now, and plays what arrives as soon as it arrives.
    Open,
}

/// Rewrites every `sendonly` section: one whose mid is in `assigned` (mid → `(stream id,
/// track id)`) announces that msid; any other loses its msid and becomes `spare`.
pub fn assign_send_sections(
    sdp: &str,
    assigned: &HashMap<String, (String, String)>,
    spare: Spare,
) -> String {
    let (session, sections) = split(sdp);
    let mut out = String::with_capacity(sdp.len() + 128);
    for line in session {
        out.push_str(line);
        out.push_str("\r\n");
    }
    for section in &sections {
        let target = section
            .is_sendonly()
            .then(|| section.mid())
            .flatten()
            .map(|mid| assigned.get(mid));
        for line in &section.lines {
            match target {
                None => push_line(&mut out, line),
                Some(assignment) => rewrite_line(&mut out, line, assignment, spare),
            }
        }
    }
    out
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

fn rewrite_line(out: &mut String, line: &str, assignment: Option<&(String, String)>, spare: Spare) {
    let is_ssrc_msid = line.starts_with("a=ssrc:") && line.contains(" msid:");
    if line.starts_with("a=msid:") || is_ssrc_msid {
        return;
    }
    if line == "a=sendonly" {
        match assignment {
            Some((stream, track)) => {
                push_line(out, "a=sendonly");
                push_line(out, &format!("a=msid:{stream} {track}"));
            }
            None if spare == Spare::Open => push_line(out, "a=sendonly"),
            None => push_line(out, "a=inactive"),
        }
        return;
    }
    if let (Some((stream, track)), Some(rest)) = (assignment, line.strip_prefix("a=ssrc:")) {
        // Keep the ssrc's cname and add the chosen msid right after it.
        push_line(out, line);
        if let Some((ssrc, attr)) = rest.split_once(' ')
            && attr.starts_with("cname:")
        {
            push_line(out, &format!("a=ssrc:{ssrc} msid:{stream} {track}"));
        }
        return;
    }
    push_line(out, line);
}

#[cfg(test)]
#[path = "sdp_text_test.rs"]
mod tests;
