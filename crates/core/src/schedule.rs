//! When scheduled blasts run: rules in an explicit IANA time zone, the next
//! due instant after any moment, and what to do about a run that was due
//! while Blastdesk was closed or the computer asleep.
//!
//! The rules for odd local times, stated once (see `zone`): a time that does
//! not exist on a day (clocks went forward over it) runs at the first valid
//! instant after it; a time that occurs twice (clocks went back) runs at the
//! first of the two, once. A monthly run on a day the month lacks (the 31st,
//! the 29th of February) runs on the month's last day.

use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::pacing::LocalTime;
use crate::zone;

/// When a schedule runs, in its zone's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "repeat", rename_all = "camelCase")]
pub enum Rule {
    Once {
        date: NaiveDate,
        time: LocalTime,
    },
    Daily {
        time: LocalTime,
    },
    /// On these days of the week (1 = Monday ... 7 = Sunday).
    Weekly {
        days: Vec<u8>,
        time: LocalTime,
    },
    /// On this day of the month (1-31; the last day of shorter months).
    Monthly {
        day: u8,
        time: LocalTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum RuleError {
    #[error("choose at least one day of the week")]
    NoDays,
    #[error("{day} is not a day of the week (1 is Monday, 7 is Sunday)")]
    BadWeekday { day: u8 },
    #[error("{day} is not a day of the month (1 to 31)")]
    BadMonthDay { day: u8 },
    #[error("that date and time have already passed")]
    InThePast,
}

impl Rule {
    pub fn validate(&self) -> Result<(), RuleError> {
        match self {
            Rule::Weekly { days, .. } if days.is_empty() => Err(RuleError::NoDays),
            Rule::Weekly { days, .. } => match days.iter().find(|d| !(1..=7).contains(*d)) {
                Some(&bad) => Err(RuleError::BadWeekday { day: bad }),
                None => Ok(()),
            },
            Rule::Monthly { day, .. } if !(1..=31).contains(day) => {
                Err(RuleError::BadMonthDay { day: *day })
            }
            _ => Ok(()),
        }
    }

    fn time(&self) -> LocalTime {
        match self {
            Rule::Once { time, .. }
            | Rule::Daily { time }
            | Rule::Weekly { time, .. }
            | Rule::Monthly { time, .. } => *time,
        }
    }

    /// Whether the rule runs on this local date.
    fn runs_on(&self, date: NaiveDate) -> bool {
        match self {
            Rule::Once { date: once, .. } => *once == date,
            Rule::Daily { .. } => true,
            Rule::Weekly { days, .. } => {
                let weekday = date.weekday().number_from_monday();
                days.iter().any(|&d| u32::from(d) == weekday)
            }
            Rule::Monthly { day, .. } => date.day() == u32::from(*day).min(last_day_of_month(date)),
        }
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let first_of_next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    first_of_next
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// The first instant the rule is due strictly after `after_ms`, or `None`
/// (a one-off run in the past).
pub fn next_run(rule: &Rule, tz: Tz, after_ms: Millis) -> Option<Millis> {
    if let Rule::Once { date, time } = rule {
        let at = zone::at(tz, *date, time.time());
        return (at > after_ms).then_some(at);
    }
    let mut date = zone::local(tz, after_ms).date().pred_opt()?;
    // A monthly rule is due within 31 days; a year is a safe bound for all.
    for _ in 0..400 {
        if rule.runs_on(date) {
            let at = zone::at(tz, date, rule.time().time());
            if at > after_ms {
                return Some(at);
            }
        }
        date = date.checked_add_days(Days::new(1))?;
    }
    None
}

/// What to do about a due run, `now_ms` being later than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdue {
    /// Late by no more than the grace period: run it now.
    RunNow,
    /// Too late: record it as missed (and tell the person); never run it.
    Missed,
}

/// The stated policy for a run due at `due_ms` seen at `now_ms`: within the
/// grace period it runs, later it is missed. Only the latest missed instant
/// matters: a schedule never runs a burst of catch-up runs.
pub fn overdue(due_ms: Millis, now_ms: Millis, grace_ms: Millis) -> Overdue {
    if now_ms - due_ms <= grace_ms {
        Overdue::RunNow
    } else {
        Overdue::Missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_lengths_including_leap_years() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default();
        assert_eq!(last_day_of_month(d(2024, 2)), 29);
        assert_eq!(last_day_of_month(d(2026, 2)), 28);
        assert_eq!(last_day_of_month(d(2100, 2)), 28);
        assert_eq!(last_day_of_month(d(2000, 2)), 29);
        assert_eq!(last_day_of_month(d(2026, 12)), 31);
        assert_eq!(last_day_of_month(d(2026, 4)), 30);
    }
}
