//! The SFU's own forwarding delay (arrival to departure, sampled by the SFU itself:
//! `bedside_sfu_forward_delay_seconds` on its `/metrics`), read before and after a
//! measurement window, as percentiles of the difference.

use livekit_api::access_token::{AccessToken, VideoGrants};

const FAMILY: &str = "bedside_sfu_forward_delay_seconds_bucket{kind=\"";

/// Cumulative histogram buckets: upper bound in seconds (`f64::INFINITY` last) and
/// the count at or below it.
#[derive(Debug, Clone, Default)]
pub struct Buckets(Vec<(f64, u64)>);

impl Buckets {
    /// Reads one kind's (`audio`, `video`) off the Prometheus text of `/metrics`.
    pub fn parse(text: &str, kind: &str) -> Self {
        let series = format!("{kind}\",le=\"");
        let buckets = text
            .lines()
            .filter_map(|line| line.strip_prefix(FAMILY)?.strip_prefix(series.as_str()))
            .filter_map(|rest| {
                let (le, count) = rest.split_once("\"} ")?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le, count.trim().parse().ok()?))
            })
            .collect();
        Self(buckets)
    }

    /// Both kinds' counts together.
    pub fn plus(&self, other: &Buckets) -> Buckets {
        self.combine(other, |mine, theirs| mine + theirs)
    }

    /// What was counted since `before`.
    pub fn since(&self, before: &Buckets) -> Buckets {
        self.combine(before, u64::saturating_sub)
    }

    /// Each of our buckets with `other`'s of the same bound (0 where it has none).
    fn combine(&self, other: &Buckets, with: impl Fn(u64, u64) -> u64) -> Buckets {
        let counts = self
            .0
            .iter()
            .map(|(le, count)| {
                let theirs = other.0.iter().find(|(l, _)| l == le).map_or(0, |(_, c)| *c);
                (*le, with(*count, theirs))
            })
            .collect();
        Buckets(counts)
    }

    /// Delays counted.
    pub fn total(&self) -> u64 {
        self.0.last().map_or(0, |(_, count)| *count)
    }

    /// The `p` quantile in milliseconds, interpolated within its bucket (a delay past
    /// the last finite bound reads as that bound).
    pub fn quantile_ms(&self, p: f64) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let rank = p * total as f64;
        let (mut lower, mut below) = (0.0, 0u64);
        for (le, count) in &self.0 {
            if *count as f64 >= rank {
                if le.is_infinite() {
                    return lower * 1000.0;
                }
                let within = (*count - below).max(1) as f64;
                let share = ((rank - below as f64) / within).clamp(0.0, 1.0);
                return (lower + (le - lower) * share) * 1000.0;
            }
            if le.is_finite() {
                lower = *le;
            }
            below = *count;
        }
        lower * 1000.0
    }
}

/// The SFU's histograms now (audio, video), read with an operator (`roomList`) token.
pub async fn read(
    base_url: &str,
    api_key: &str,
    secret: &str,
) -> anyhow::Result<(Buckets, Buckets)> {
    let token = AccessToken::with_api_key(api_key, secret)
        .with_grants(VideoGrants {
            room_list: true,
            ..Default::default()
        })
        .to_jwt()?;
    let text = reqwest::Client::new()
        .get(format!("{base_url}/metrics"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok((
        Buckets::parse(&text, "audio"),
        Buckets::parse(&text, "video"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
bedside_sfu_forward_delay_seconds_bucket{kind=\"audio\",le=\"0.0001\"} 3
bedside_sfu_forward_delay_seconds_bucket{kind=\"audio\",le=\"0.001\"} 3
bedside_sfu_forward_delay_seconds_bucket{kind=\"audio\",le=\"0.01\"} 3
bedside_sfu_forward_delay_seconds_bucket{kind=\"audio\",le=\"+Inf\"} 3
bedside_sfu_forward_delay_seconds_bucket{kind=\"video\",le=\"0.0001\"} 50
bedside_sfu_forward_delay_seconds_bucket{kind=\"video\",le=\"0.001\"} 98
bedside_sfu_forward_delay_seconds_bucket{kind=\"video\",le=\"0.01\"} 100
bedside_sfu_forward_delay_seconds_bucket{kind=\"video\",le=\"+Inf\"} 100
";

    #[test]
    fn quantiles_are_read_off_the_difference_of_two_scrapes() {
        assert_eq!(Buckets::parse(TEXT, "audio").total(), 3);
        let after = Buckets::parse(TEXT, "video");
        assert_eq!(after.plus(&Buckets::parse(TEXT, "audio")).total(), 103);
        assert_eq!(after.total(), 100);
        assert!((after.quantile_ms(0.5) - 0.1).abs() < 1e-9);
        // The 99th of 100 falls halfway into the (1 ms, 10 ms] bucket.
        assert!((after.quantile_ms(0.99) - 5.5).abs() < 1e-9);
        let before = Buckets::parse(&TEXT.replace("} 100", "} 98"), "video");
        let window = after.since(&before);
        assert_eq!(window.total(), 2);
        assert!(window.quantile_ms(0.99) > 1.0);
    }
}
