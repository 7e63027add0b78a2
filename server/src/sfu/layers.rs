//! Which simulcast layer a subscriber gets: a pure function of the layers the publisher
//! sends, what the subscriber asked for (`UpdateTrackSettings`: disabled, visible size,
//! quality) and what its downlink can carry (str0m's TWCC estimate), with hysteresis.
//! Table-tested in `layers_test.rs`; the forwarder switches only on a keyframe of the
//! chosen layer.

/// One layer of a published video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSpec {
    /// 0 = `q` (low), 1 = `h` (medium), 2 = `f` (high); a track without simulcast has
    /// one layer of rank 0.
    pub rank: u8,
    /// Encoded width (0 if unknown).
    pub width: u32,
    /// Bits per second the publisher announced for it.
    pub bitrate_bps: u64,
}

/// What a subscriber asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wanted {
    /// Nothing at all (a hidden or paused video element).
    pub disabled: bool,
    /// Width it renders at (0: unknown, no limit).
    pub width: u32,
    /// Highest rank it wants (`None`: no limit).
    pub max_rank: Option<u8>,
}

/// A higher layer must fit this many times over before the subscriber moves up, so a
/// fluctuating estimate does not flap between layers.
const UP_HEADROOM: f64 = 1.2;

/// The rank to forward, or `None` for nothing. `budget_bps` is the share of the
/// subscriber's estimated downlink for this track (`None`: no estimate yet, no limit).
pub fn select_layer(
    layers: &[LayerSpec],
    wanted: Wanted,
    budget_bps: Option<u64>,
    current: Option<u8>,
) -> Option<u8> {
    if wanted.disabled || layers.is_empty() {
        return None;
    }
    let mut sorted: Vec<LayerSpec> = layers.to_vec();
    sorted.sort_by_key(|l| l.rank);
    let lowest = sorted[0].rank;
    // The size ceiling: the smallest layer at least as wide as the element; any
    // larger one would be scaled down by the browser anyway.
    let widths_known = sorted.iter().any(|l| l.width > 0);
    let by_size = match wanted.width {
        0 => None,
        _ if !widths_known => None,
        width => sorted
            .iter()
            .find(|l| l.width >= width)
            .or(sorted.last())
            .map(|l| l.rank),
    };
    let ceiling = [by_size, wanted.max_rank, sorted.last().map(|l| l.rank)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(lowest)
        .max(lowest);
    let Some(budget) = budget_bps else {
        return Some(ceiling);
    };
    let fits = |layer: &LayerSpec| {
        let needed = layer.bitrate_bps as f64;
        let staying = Some(layer.rank) <= current;
        let headroom = if staying { 1.0 } else { UP_HEADROOM };
        needed * headroom <= budget as f64
    };
    let chosen = sorted
        .iter()
        .filter(|l| l.rank <= ceiling)
        .filter(|l| fits(l))
        .map(|l| l.rank)
        .max();
    // Never starve a subscriber: the lowest layer is the floor.
    Some(chosen.unwrap_or(lowest))
}

#[cfg(test)]
#[path = "layers_test.rs"]
mod tests;
