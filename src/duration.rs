//! Durations as kubectl writes them: `500ms`, `30s`, `5m`, `1h`, `7d`, or a
//! bare number of seconds. One parser for every duration flag.

use std::time::Duration;

/// Parses a duration; `None` when malformed, negative or absurdly large.
pub fn parse(s: &str) -> Option<Duration> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        None => (t, "s"),
        Some(i) => t.split_at(i),
    };
    let n: f64 = num.parse().ok()?;
    let factor = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    let secs = n * factor;
    (secs.is_finite() && (0.0..=1.0e10).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_style_durations() {
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(parse("42"), Some(Duration::from_secs(42)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("7d"), Some(Duration::from_secs(604_800)));
        for bad in ["", "soon", "-1s", "5x", "1e3s", "99999999999999999d", "s"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
