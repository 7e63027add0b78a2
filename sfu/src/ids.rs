//! LiveKit-style identifiers: a kind prefix (`PA_`, `TR_`, `RM_`) and 12 random base-62
//! characters, short enough that `PA_…|TR_…` fits an SDP `msid` token (64 characters).

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh identifier with `prefix` (for example `"PA_"`).
pub fn new_sid(prefix: &str) -> String {
    let mut value = u128::from_le_bytes(*uuid::Uuid::new_v4().as_bytes());
    let mut sid = String::with_capacity(prefix.len() + 12);
    sid.push_str(prefix);
    for _ in 0..12 {
        sid.push(char::from(ALPHABET[(value % 62) as usize]));
        value /= 62;
    }
    sid
}

/// Participant sid.
pub(crate) fn participant_sid() -> String {
    new_sid("PA_")
}

/// Track sid.
pub(crate) fn track_sid() -> String {
    new_sid("TR_")
}

/// Room sid.
pub(crate) fn room_sid() -> String {
    new_sid("RM_")
}
