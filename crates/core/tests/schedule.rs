//! Next-run computation, table-driven across zones, both DST transitions,
//! month ends and leap days; and the missed-run policy.

use blastdesk_core::clock::Millis;
use blastdesk_core::pacing::LocalTime;
use blastdesk_core::schedule::{Overdue, Rule, next_run, overdue};
use blastdesk_core::zone;
use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

fn utc(text: &str) -> Millis {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default()
}

fn show_utc(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn at(h: u32, m: u32) -> LocalTime {
    LocalTime::hm(h, m)
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

#[test]
fn next_runs_across_zones_dst_month_ends_and_leap_days() {
    let daily_0230 = Rule::Daily { time: at(2, 30) };
    let daily_0130 = Rule::Daily { time: at(1, 30) };
    let cases: Vec<(&str, &str, Rule, &str, &str)> = vec![
        // (what, zone, rule, after (UTC), next run (UTC))
        (
            "Jakarta has no DST: 09:00 WIB is 02:00 UTC",
            "Asia/Jakarta",
            Rule::Daily { time: at(9, 0) },
            "2026-11-28 12:00",
            "2026-11-29 02:00",
        ),
        (
            "the same instant is not 'after' itself",
            "Asia/Jakarta",
            Rule::Daily { time: at(9, 0) },
            "2026-11-29 02:00",
            "2026-11-30 02:00",
        ),
        (
            "the seed's 02:00 job, in Jakarta, not UTC",
            "Asia/Jakarta",
            Rule::Daily { time: at(2, 0) },
            "2026-11-28 12:00",
            "2026-11-28 19:00",
        ),
        // London, spring forward (29 March 2026, 01:00 -> 02:00 local).
        (
            "London: 01:30 does not exist; the first instant after it",
            "Europe/London",
            daily_0130.clone(),
            "2026-03-28 12:00",
            "2026-03-29 01:00",
        ),
        (
            "London: the day after, BST",
            "Europe/London",
            daily_0130.clone(),
            "2026-03-29 01:00",
            "2026-03-30 00:30",
        ),
        // London, fall back (25 October 2026, 02:00 -> 01:00 local): 01:30 happens twice, runs once.
        (
            "London: ambiguous 01:30 runs at the first",
            "Europe/London",
            daily_0130.clone(),
            "2026-10-24 12:00",
            "2026-10-25 00:30",
        ),
        (
            "London: and not again at the second",
            "Europe/London",
            daily_0130.clone(),
            "2026-10-25 00:30",
            "2026-10-26 01:30",
        ),
        // New York, 8 March 2026 (02:00 -> 03:00) and 1 November 2026 (02:00 -> 01:00).
        (
            "New York: 02:30 skipped, runs at 03:00 EDT",
            "America/New_York",
            daily_0230.clone(),
            "2026-03-07 12:00",
            "2026-03-08 07:00",
        ),
        (
            "New York: ambiguous 01:30, the EDT one",
            "America/New_York",
            daily_0130.clone(),
            "2026-10-31 12:00",
            "2026-11-01 05:30",
        ),
        (
            "New York: then EST the next day",
            "America/New_York",
            daily_0130.clone(),
            "2026-11-01 05:30",
            "2026-11-02 06:30",
        ),
        // Lord Howe moves by 30 minutes: 02:00-02:30 does not exist on 4 Oct 2026.
        (
            "Lord Howe: 02:15 skipped, runs at 02:30 (+11)",
            "Australia/Lord_Howe",
            Rule::Daily { time: at(2, 15) },
            "2026-10-03 00:00",
            "2026-10-03 15:30",
        ),
        (
            "Lord Howe: ambiguous 01:45 on 5 Apr 2026, the first (+11)",
            "Australia/Lord_Howe",
            Rule::Daily { time: at(1, 45) },
            "2026-04-04 00:00",
            "2026-04-04 14:45",
        ),
        (
            "Lord Howe: then +10:30",
            "Australia/Lord_Howe",
            Rule::Daily { time: at(1, 45) },
            "2026-04-04 14:45",
            "2026-04-05 15:15",
        ),
        // Weekly.
        (
            "weekly Mon/Thu from a Saturday",
            "Asia/Jakarta",
            Rule::Weekly {
                days: vec![1, 4],
                time: at(10, 0),
            },
            "2026-11-28 05:00",
            "2026-11-30 03:00",
        ),
        (
            "weekly Mon/Thu from that Monday's run",
            "Asia/Jakarta",
            Rule::Weekly {
                days: vec![1, 4],
                time: at(10, 0),
            },
            "2026-11-30 03:00",
            "2026-12-03 03:00",
        ),
        (
            "weekly Sunday across the year end",
            "Europe/London",
            Rule::Weekly {
                days: vec![7],
                time: at(18, 0),
            },
            "2026-12-28 00:00",
            "2027-01-03 18:00",
        ),
        // Monthly, month ends and leap days.
        (
            "monthly on the 31st in a 30-day month: the 30th",
            "Asia/Jakarta",
            Rule::Monthly {
                day: 31,
                time: at(8, 0),
            },
            "2026-11-01 00:00",
            "2026-11-30 01:00",
        ),
        (
            "monthly on the 31st in December",
            "Asia/Jakarta",
            Rule::Monthly {
                day: 31,
                time: at(8, 0),
            },
            "2026-11-30 01:00",
            "2026-12-31 01:00",
        ),
        (
            "monthly on the 30th in a non-leap February: the 28th",
            "America/New_York",
            Rule::Monthly {
                day: 30,
                time: at(9, 0),
            },
            "2027-02-01 00:00",
            "2027-02-28 14:00",
        ),
        (
            "monthly on the 29th in a leap February",
            "America/New_York",
            Rule::Monthly {
                day: 29,
                time: at(9, 0),
            },
            "2028-02-01 00:00",
            "2028-02-29 14:00",
        ),
        (
            "monthly on the 29th in a non-leap February: the 28th",
            "America/New_York",
            Rule::Monthly {
                day: 29,
                time: at(9, 0),
            },
            "2027-02-01 00:00",
            "2027-02-28 14:00",
        ),
        // One-off.
        (
            "once, in the future",
            "Asia/Jakarta",
            Rule::Once {
                date: date("2028-02-29"),
                time: at(7, 30),
            },
            "2026-11-28 00:00",
            "2028-02-29 00:30",
        ),
    ];
    for (what, zone_name, rule, after, expected) in cases {
        let tz = zone::parse(zone_name).unwrap_or(Tz::UTC);
        assert_eq!(rule.validate(), Ok(()), "{what}");
        let next = next_run(&rule, tz, utc(after));
        assert_eq!(next.map(show_utc).as_deref(), Some(expected), "{what}");
    }
    // A one-off run in the past has no next run.
    let past = Rule::Once {
        date: date("2026-01-01"),
        time: at(9, 0),
    };
    assert_eq!(next_run(&past, Tz::UTC, utc("2026-11-28 00:00")), None);
}

#[test]
fn rules_are_checked_and_stored_as_json() {
    assert!(
        Rule::Weekly {
            days: vec![],
            time: at(9, 0)
        }
        .validate()
        .is_err()
    );
    assert!(
        Rule::Weekly {
            days: vec![0],
            time: at(9, 0)
        }
        .validate()
        .is_err()
    );
    assert!(
        Rule::Weekly {
            days: vec![8],
            time: at(9, 0)
        }
        .validate()
        .is_err()
    );
    assert!(
        Rule::Monthly {
            day: 0,
            time: at(9, 0)
        }
        .validate()
        .is_err()
    );
    assert!(
        Rule::Monthly {
            day: 32,
            time: at(9, 0)
        }
        .validate()
        .is_err()
    );
    let rule = Rule::Weekly {
        days: vec![1, 5],
        time: at(9, 30),
    };
    let json = serde_json::to_value(&rule).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"repeat": "weekly", "days": [1, 5], "time": "09:30"})
    );
    assert_eq!(serde_json::from_value::<Rule>(json).ok(), Some(rule));
}

#[test]
fn a_late_run_runs_within_the_grace_period_and_is_missed_after_it() {
    let hour = 3_600_000;
    let due = utc("2026-11-29 02:00");
    let cases = [
        (0, Overdue::RunNow),
        (59 * 60_000, Overdue::RunNow),
        (hour, Overdue::RunNow),
        (hour + 1, Overdue::Missed),
        (3 * 24 * hour, Overdue::Missed),
    ];
    for (late, expected) in cases {
        assert_eq!(overdue(due, due + late, hour), expected, "{late} ms late");
    }
}
