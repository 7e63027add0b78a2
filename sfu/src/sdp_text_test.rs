use super::*;

const ANSWER: &str = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=msid:rand1 rand2\r\na=ssrc:11 cname:abc\r\na=ssrc:11 msid:rand1 rand2\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=msid:rand3 rand4\r\na=ssrc:22 cname:abc\r\na=ssrc:22 msid:rand3 rand4\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=recvonly\r\n";

#[test]
fn send_sections_lists_only_sendonly_media_with_their_kind() {
    assert_eq!(
        send_sections(ANSWER),
        vec![
            SendSection {
                mid: "0".into(),
                kind: SectionKind::Audio
            },
            SendSection {
                mid: "1".into(),
                kind: SectionKind::Video
            },
        ]
    );
    assert_eq!(first_mid(ANSWER).as_deref(), Some("0"));
}

#[test]
fn an_assigned_section_announces_the_track_msid_and_others_become_inactive() {
    let mut assigned = HashMap::new();
    assigned.insert(
        "1".to_string(),
        ("PA_a|TR_b".to_string(), "TR_b".to_string()),
    );
    let out = assign_send_sections(ANSWER, &assigned, Spare::Inactive);

    assert!(
        out.contains("a=mid:1\r\na=sendonly\r\na=msid:PA_a|TR_b TR_b\r\n"),
        "{out}"
    );
    assert!(
        out.contains("a=ssrc:22 cname:abc\r\na=ssrc:22 msid:PA_a|TR_b TR_b\r\n"),
        "{out}"
    );
    assert!(out.contains("a=mid:0\r\na=inactive\r\n"), "{out}");
    assert!(!out.contains("rand"), "no str0m msid survives: {out}");
    assert!(
        out.contains("a=mid:2\r\na=recvonly\r\n"),
        "receive sections untouched: {out}"
    );
    assert!(out.starts_with("v=0\r\n") && out.ends_with("\r\n"));
}

#[test]
fn an_open_spare_section_stays_sendonly_and_names_no_track() {
    let out = assign_send_sections(ANSWER, &HashMap::new(), Spare::Open);

    assert!(
        out.contains("a=mid:0\r\na=sendonly\r\na=ssrc:11 cname:abc\r\n"),
        "{out}"
    );
    assert!(
        out.contains("a=mid:1\r\na=sendonly\r\na=ssrc:22 cname:abc\r\n"),
        "{out}"
    );
    assert!(!out.contains("msid"), "no section names a track: {out}");
    assert_eq!(send_sections(&out).len(), 2, "both can carry a track later");
}
