use std::io::Write;

use super::*;

fn wrapped(request: &proto::JoinRequest, gzip: bool) -> String {
    let mut bytes = request.encode_to_vec();
    let mut compression = proto::wrapped_join_request::Compression::None;
    if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&bytes).unwrap();
        bytes = encoder.finish().unwrap();
        compression = proto::wrapped_join_request::Compression::Gzip;
    }
    let wrapped = proto::WrappedJoinRequest {
        compression: compression as i32,
        join_request: bytes,
    };
    base64::engine::general_purpose::URL_SAFE.encode(wrapped.encode_to_vec())
}

fn sample() -> proto::JoinRequest {
    proto::JoinRequest {
        publisher_offer: Some(proto::SessionDescription {
            r#type: "offer".into(),
            sdp: "v=0\r\n".into(),
            id: 1,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_plain_and_a_gzipped_join_request_decode_to_the_same_request() {
    assert_eq!(from_wrapped(&wrapped(&sample(), false)).unwrap(), sample());
    assert_eq!(from_wrapped(&wrapped(&sample(), true)).unwrap(), sample());
}

#[test]
fn padding_is_optional_and_garbage_is_refused() {
    let encoded = wrapped(&sample(), true);
    assert_eq!(
        from_wrapped(encoded.trim_end_matches('=')).unwrap(),
        sample()
    );
    assert_eq!(from_wrapped("%%%"), Err(JoinRequestError::Encoding));
    assert_eq!(from_wrapped("AAAA____"), Err(JoinRequestError::Malformed));
}

#[test]
fn the_older_query_form_reads_auto_subscribe_and_reconnect() {
    let query: HashMap<String, String> =
        [("auto_subscribe", "0"), ("reconnect", "1"), ("sid", "PA_x")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let request = from_query(&query);
    assert!(!request.connection_settings.unwrap().auto_subscribe);
    assert!(request.reconnect);
    assert_eq!(request.participant_sid, "PA_x");
    assert!(
        from_query(&HashMap::new())
            .connection_settings
            .unwrap()
            .auto_subscribe
    );
}
