//! What one generator peer measured.

/// What one peer measured inside the measurement window.
#[derive(Debug, Default, Clone)]
pub struct PeerReport {
    /// Video frames it produced (one per layer-set).
    pub video_frames_sent: u64,
    /// Video frames it received from its partner.
    pub video_frames_received: u64,
    /// Audio frames produced and received.
    pub audio_frames_sent: u64,
    /// Audio frames received.
    pub audio_frames_received: u64,
    /// RTP packets and bytes received (str0m ingress stats).
    pub packets_received: u64,
    /// See `packets_received`.
    pub bytes_received: u64,
    /// Send-to-receive delay of each received packet, microseconds.
    pub latencies_us: Vec<u64>,
    /// Bytes it sent beside str0m (as on the wire).
    pub bytes_sent: u64,
    /// The send-side estimate the SFU's feedback gave it at the window's end.
    pub uplink_estimate_bps: Option<u64>,
}
