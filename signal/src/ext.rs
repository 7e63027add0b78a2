//! Bedside's extension of LiveKit's signaling protocol: **open receive sections**.
//!
//! In the single-peer-connection flow the client is always the offerer, so a new remote
//! track normally costs a whole round before its first frame: the server asks for a
//! receive section (`MediaSectionsRequirement`), the client offers, the server answers
//! with the section's `mid_to_track_id`, and only then may media flow (and the receiver
//! asks for a keyframe). On a busy two-core machine that round took 500–900 ms of the
//! Admit → video path.
//!
//! A client that opts in (the [`OPEN_SECTIONS_PARAM`] query parameter on `/rtc/v1`)
//! gets its spare receive sections answered `sendonly` with no track named, instead of
//! `inactive`. When a track to send it appears and such a section is free, the server
//! binds the track to it at once, starts forwarding, and says so in a
//! [`SectionsAssigned`] frame; no offer or answer is needed. The next answer the client
//! gets (for whatever reason) names the same binding in its `mid_to_track_id`.
//!
//! The frame is a `SignalResponse` whose only field is [`SIGNAL_RESPONSE_TAG`], a field
//! number LiveKit does not use: a LiveKit parser sees an empty response, ours decodes
//! both views of the same bytes. A server that does not know the parameter (LiveKit
//! itself) ignores it, and the client then sees the usual rounds.

use prost::Message;

/// Query parameter of `/rtc/v1` by which a client asks for open receive sections.
pub const OPEN_SECTIONS_PARAM: &str = "bedside_open_sections";

/// Field number of [`SignalResponseExt::sections_assigned`] within a `SignalResponse`.
pub const SIGNAL_RESPONSE_TAG: u32 = 4096;

/// The Bedside fields of a `SignalResponse` frame.
#[derive(Clone, PartialEq, Message)]
pub struct SignalResponseExt {
    /// Remote tracks the server just bound to open receive sections.
    #[prost(message, optional, tag = "4096")]
    pub sections_assigned: Option<SectionsAssigned>,
}

/// Remote tracks bound to open receive sections, effective at once.
#[derive(Clone, PartialEq, Message)]
pub struct SectionsAssigned {
    /// One entry per section.
    #[prost(message, repeated, tag = "1")]
    pub sections: Vec<SectionAssignment>,
}

/// One open receive section and the track it now carries.
#[derive(Clone, PartialEq, Message)]
pub struct SectionAssignment {
    /// The section's `a=mid`.
    #[prost(string, tag = "1")]
    pub mid: String,
    /// The remote track's sid (`TR_…`).
    #[prost(string, tag = "2")]
    pub track_sid: String,
}

impl SectionsAssigned {
    /// The frame to send: a `SignalResponse` carrying only this extension.
    pub fn to_frame(&self) -> Vec<u8> {
        SignalResponseExt {
            sections_assigned: Some(self.clone()),
        }
        .encode_to_vec()
    }

    /// The extension in a received frame, if it carries one.
    pub fn from_frame(bytes: &[u8]) -> Option<Self> {
        SignalResponseExt::decode(bytes).ok()?.sections_assigned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto;

    fn assigned() -> SectionsAssigned {
        SectionsAssigned {
            sections: vec![SectionAssignment {
                mid: "3".into(),
                track_sid: "TR_camera".into(),
            }],
        }
    }

    #[test]
    fn a_livekit_parser_reads_the_frame_as_an_empty_response() {
        let frame = assigned().to_frame();
        let response = proto::SignalResponse::decode(frame.as_slice()).expect("decodes");
        assert_eq!(response.message, None);
    }

    #[test]
    fn the_frame_carries_the_assignment_and_a_livekit_frame_carries_none() {
        assert_eq!(
            SectionsAssigned::from_frame(&assigned().to_frame()),
            Some(assigned())
        );
        let pong = proto::SignalResponse {
            message: Some(proto::signal_response::Message::PongResp(proto::Pong {
                last_ping_timestamp: 1,
                timestamp: 2,
            })),
        };
        assert_eq!(SectionsAssigned::from_frame(&pong.encode_to_vec()), None);
    }
}
