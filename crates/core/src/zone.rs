//! Local times in an IANA time zone, with one rule for the times that DST
//! makes odd: a local time that does not exist (skipped when clocks go
//! forward) means the first valid instant after it; a local time that occurs
//! twice (when clocks go back) means the first of the two.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::clock::Millis;

/// Parses an IANA zone name ("Asia/Jakarta").
pub fn parse(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// The computer's time zone by its IANA name, if the system says and
/// Blastdesk knows it; else UTC.
pub fn computer() -> Tz {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| parse(&name))
        .unwrap_or(Tz::UTC)
}

/// The instant a local date and time stands for, by the rule above.
pub fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap. Gaps end on a minute boundary in every zone; the first
            // valid local minute after the time is the instant clocks jumped.
            let mut probe = local;
            for _ in 0..(26 * 60) {
                probe += Duration::minutes(1);
                let probe = probe.with_second(0).unwrap_or(probe);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            // No zone has a gap this long; read the time as UTC rather than fail.
            local.and_utc()
        }
    }
}

/// The instant of a local date at a local time.
pub fn at(tz: Tz, date: NaiveDate, time: NaiveTime) -> Millis {
    resolve(tz, date.and_time(time)).timestamp_millis()
}

/// The local date and time of an instant.
pub fn local(tz: Tz, at_ms: Millis) -> NaiveDateTime {
    let utc = DateTime::<Utc>::from_timestamp_millis(at_ms).unwrap_or_default();
    utc.with_timezone(&tz).naive_local()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ndt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn dst_gaps_move_forward_and_overlaps_take_the_first() {
        let cases = [
            // zone, local time, the UTC instant it means
            ("Asia/Jakarta", "2026-03-29 02:30", "2026-03-28 19:30"),
            // Spring forward: 02:30 does not exist in London; 02:00 local = 01:00 UTC.
            ("Europe/London", "2026-03-29 01:30", "2026-03-29 01:00"),
            // Fall back: 01:30 occurs twice; the first is still on BST.
            ("Europe/London", "2026-10-25 01:30", "2026-10-25 00:30"),
            ("America/New_York", "2026-03-08 02:30", "2026-03-08 07:00"),
            ("America/New_York", "2026-11-01 01:30", "2026-11-01 05:30"),
            // Lord Howe moves by 30 minutes: 02:00-02:30 does not exist.
            (
                "Australia/Lord_Howe",
                "2026-10-04 02:15",
                "2026-10-03 15:30",
            ),
            (
                "Australia/Lord_Howe",
                "2026-04-05 01:45",
                "2026-04-04 14:45",
            ),
        ];
        for (zone, local_time, utc) in cases {
            let tz = parse(zone).unwrap_or(Tz::UTC);
            let got = resolve(tz, ndt(local_time)).naive_utc();
            assert_eq!(got, ndt(utc), "{zone} {local_time}");
        }
    }

    #[test]
    fn local_reads_an_instant_in_the_zone() {
        let tz = parse("Asia/Jakarta").unwrap_or(Tz::UTC);
        let instant = at(
            tz,
            ndt("2026-11-28 09:00").date(),
            ndt("2026-11-28 09:00").time(),
        );
        assert_eq!(local(tz, instant), ndt("2026-11-28 09:00"));
        assert_eq!(parse("Mars/Olympus"), None);
    }
}
