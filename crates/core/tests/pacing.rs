//! The pacer, driven through imagined days: exact patterns with fixed
//! settings, bounds with random ones, caps across restarts, DST, warm-up.

use blastdesk_core::clock::Millis;
use blastdesk_core::pacing::{LocalTime, Pacer, Pacing, Risk, WaitReason, Window};
use blastdesk_core::zone;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

const S: Millis = 1_000;
const MIN: Millis = 60 * S;
const HOUR: Millis = 60 * MIN;

fn jakarta() -> Tz {
    zone::parse("Asia/Jakarta").unwrap_or(Tz::UTC)
}

fn at(tz: Tz, text: &str) -> Millis {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap_or_default();
    zone::at(tz, local.date(), local.time())
}

fn local(tz: Tz, ms: Millis) -> String {
    zone::local(tz, ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Sends `n` messages as the engine does, each as soon as the pacer allows;
/// returns when each went and why it had to wait.
fn pace(pacer: &mut Pacer, start: Millis, n: usize) -> Vec<(Millis, Option<WaitReason>)> {
    let mut now = start;
    let mut sent = Vec::with_capacity(n);
    for _ in 0..n {
        let mut reason = None;
        loop {
            let slot = pacer.next_slot(now);
            if slot.at > now {
                reason = slot.reason;
                now = slot.at;
                continue;
            }
            match pacer.admit(now) {
                Ok(()) => break,
                Err(later) => {
                    reason = Some(WaitReason::PerMinuteLimit);
                    now = later;
                }
            }
        }
        pacer.record_send(now);
        sent.push((now, reason));
    }
    sent
}

/// Fixed settings: every gap is known in advance.
fn fixed() -> Pacing {
    Pacing {
        enabled: true,
        min_delay_s: 30,
        max_delay_s: 30,
        batch_min: 20,
        batch_max: 20,
        rest_min_s: 300,
        rest_max_s: 300,
        per_minute: 6,
        hourly_cap: 0,
        daily_cap: 0,
        warm_up_days: 0,
        window: Some(Window {
            start: LocalTime::hm(9, 0),
            end: LocalTime::hm(17, 0),
        }),
        error_streak: 5,
    }
}

#[test]
fn fixed_settings_give_exactly_the_configured_pattern_over_a_day() {
    let tz = jakarta();
    let mut pacer = Pacer::new(fixed(), tz, 0, &[], 7);
    let sent = pace(&mut pacer, at(tz, "2026-11-30 06:15:00"), 700);

    // Batches of 20, 30 s apart, 5 minutes' rest between batches: a batch
    // every 14.5 minutes from 09:00, the last message before 17:00 at
    // 16:59:30, then the window closes until 09:00 the next day.
    let expected_day_one: Vec<Millis> = (0..663)
        .map(|i| at(tz, "2026-11-30 09:00:00") + (i / 20) * (14 * MIN + 30 * S) + (i % 20) * 30 * S)
        .collect();
    let times: Vec<Millis> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(times[..663], expected_day_one[..]);
    assert_eq!(local(tz, times[662]), "2026-11-30 16:59:30");
    assert_eq!(local(tz, times[663]), "2026-12-01 09:00:00");

    // Why each waited.
    assert_eq!(sent[0].1, Some(WaitReason::OutsideWindow));
    assert_eq!(sent[1].1, Some(WaitReason::Delay));
    assert_eq!(sent[20].1, Some(WaitReason::BatchRest));
    assert_eq!(sent[663].1, Some(WaitReason::OutsideWindow));
}

#[test]
fn the_hourly_cap_holds_in_every_rolling_hour() {
    let tz = Tz::UTC;
    let policy = Pacing {
        min_delay_s: 10,
        max_delay_s: 10,
        batch_min: 1_000,
        batch_max: 1_000,
        hourly_cap: 60,
        window: None,
        ..fixed()
    };
    let start = at(tz, "2026-11-30 00:00:00");
    let sent = pace(&mut Pacer::new(policy, tz, 0, &[], 1), start, 130);
    // 60 messages 10 s apart, then the 61st exactly an hour after the first.
    assert_eq!(sent[59].0, start + 590 * S);
    assert_eq!(sent[60], (start + HOUR, Some(WaitReason::HourlyCap)));
    assert_eq!(sent[120].0, start + 2 * HOUR);
    for (i, (t, _)) in sent.iter().enumerate() {
        let in_hour = sent[..=i].iter().filter(|(s, _)| *s > t - HOUR).count();
        assert!(
            in_hour <= 60,
            "message {i}: {in_hour} in the hour before it"
        );
    }
}

#[test]
fn the_per_minute_ceiling_holds_when_the_delays_are_zero() {
    let policy = Pacing {
        min_delay_s: 0,
        max_delay_s: 0,
        batch_min: 1_000,
        batch_max: 1_000,
        per_minute: 6,
        window: None,
        ..fixed()
    };
    let sent = pace(
        &mut Pacer::new(policy, Tz::UTC, 0, &[], 1),
        1_000 * HOUR,
        30,
    );
    for pair in sent.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, 10 * S);
        assert_eq!(pair[1].1, Some(WaitReason::PerMinuteLimit));
    }
}

#[test]
fn default_settings_stay_within_their_bounds_over_three_days() {
    let tz = jakarta();
    let policy = Pacing {
        warm_up_days: 0,
        ..Pacing::default()
    };
    let start = at(tz, "2026-11-30 00:00:00");
    let sent = pace(&mut Pacer::new(policy, tz, 0, &[], 42), start, 600);
    let times: Vec<Millis> = sent.iter().map(|(t, _)| *t).collect();

    let mut per_day = std::collections::BTreeMap::<NaiveDate, u32>::new();
    let mut batch = 1;
    for (i, &t) in times.iter().enumerate() {
        let when = zone::local(tz, t);
        assert!(
            when.time() >= NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()
                && when.time() < NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
            "message {i} at {when} is outside 09:00-20:00"
        );
        *per_day.entry(when.date()).or_default() += 1;
        let in_hour = times[..=i].iter().filter(|&&s| s > t - HOUR).count();
        assert!(in_hour <= 60, "message {i}: {in_hour} in an hour");
        if i == 0 {
            continue;
        }
        let gap = t - times[i - 1];
        match sent[i].1 {
            Some(WaitReason::Delay) => {
                assert!(
                    (20 * S..=60 * S).contains(&gap),
                    "delay {gap} ms before {i}"
                );
            }
            Some(WaitReason::BatchRest) => {
                assert!(
                    (180 * S..=600 * S).contains(&gap),
                    "rest {gap} ms before {i}"
                );
                assert!((15..=25).contains(&batch), "a batch of {batch} before {i}");
            }
            Some(WaitReason::DailyCap | WaitReason::OutsideWindow | WaitReason::HourlyCap) => {
                assert!(gap >= 20 * S, "{gap} ms before {i}");
            }
            other => panic!("message {i} waited for {other:?}"),
        }
        // Any pause as long as a rest starts a new batch.
        batch = if gap >= 180 * S { 1 } else { batch + 1 };
        assert!(batch <= 25, "a batch of {batch} at {i}");
    }
    // The daily cap of 200 binds on every full day.
    assert_eq!(
        per_day.values().copied().collect::<Vec<_>>(),
        [200, 200, 200]
    );
}

#[test]
fn caps_and_delays_survive_a_restart() {
    let tz = jakarta();
    let policy = Pacing {
        daily_cap: 100,
        warm_up_days: 0,
        ..Pacing::default()
    };
    let start = at(tz, "2026-11-30 09:00:00");
    let before = pace(&mut Pacer::new(policy.clone(), tz, 0, &[], 3), start, 100);
    let history: Vec<Millis> = before.iter().map(|(t, _)| *t).collect();
    let last = history[99];

    // A new pacer built from the sends, as after a restart.
    let again = Pacer::new(policy.clone(), tz, 0, &history, 3);
    let slot = again.next_slot(last + MIN);
    assert_eq!(slot.reason, Some(WaitReason::DailyCap));
    assert_eq!(local(tz, slot.at), "2026-12-01 09:00:00");

    // A restart right after a send still waits out the delay.
    let some = &history[..10];
    let again = Pacer::new(policy, tz, 0, some, 3);
    let slot = again.next_slot(some[9] + S);
    assert!(slot.at >= some[9] + 20 * S, "{slot:?}");
}

#[test]
fn warm_up_raises_the_daily_cap_over_the_first_days() {
    let tz = jakarta();
    let since = at(tz, "2026-11-30 10:00:00");
    let pacer = Pacer::new(Pacing::default(), tz, since, &[], 0);
    let day = |d: u32| {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default() + chrono::Days::new(u64::from(d))
    };
    let caps: Vec<u32> = [0, 1, 7, 13, 14, 30]
        .iter()
        .map(|&d| pacer.daily_cap_on(day(d)))
        .collect();
    assert_eq!(caps, [50, 60, 125, 189, 200, 200]);

    let mut pacer = Pacer::new(Pacing::default(), tz, since, &[], 0);
    let sent = pace(&mut pacer, since, 51);
    assert_eq!(sent[50].1, Some(WaitReason::DailyCap));
    assert_eq!(local(tz, sent[50].0), "2026-12-01 09:00:00");
}

#[test]
fn the_window_follows_the_account_zone_across_dst() {
    let london = zone::parse("Europe/London").unwrap_or(Tz::UTC);
    let policy = Pacing {
        window: Some(Window {
            start: LocalTime::hm(9, 0),
            end: LocalTime::hm(10, 0),
        }),
        ..fixed()
    };
    // Clocks go forward on 29 March 2026: the window opens at 09:00 BST, 08:00 UTC.
    let mut pacer = Pacer::new(policy.clone(), london, 0, &[], 0);
    let saturday = at(Tz::UTC, "2026-03-28 12:00:00");
    let sent = pace(&mut pacer, saturday, 1);
    assert_eq!(sent[0].0, at(Tz::UTC, "2026-03-29 08:00:00"));

    // A window past midnight (22:00-02:00) sends late and stops at 02:00.
    let night = Pacing {
        window: Some(Window {
            start: LocalTime::hm(22, 0),
            end: LocalTime::hm(2, 0),
        }),
        ..fixed()
    };
    let tz = jakarta();
    let sent = pace(
        &mut Pacer::new(night, tz, 0, &[], 0),
        at(tz, "2026-11-30 12:00:00"),
        400,
    );
    for (t, _) in &sent {
        let time = zone::local(tz, *t).time();
        assert!(
            time >= NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default()
                || time < NaiveTime::from_hms_opt(2, 0, 0).unwrap_or_default(),
            "{time}"
        );
    }
    assert_eq!(local(tz, sent[0].0), "2026-11-30 22:00:00");
}

#[test]
fn the_estimate_is_where_pacing_would_put_the_last_message() {
    let tz = jakarta();
    let start = at(tz, "2026-11-30 07:00:00");
    let pacer = Pacer::new(Pacing::default(), tz, 0, &[], 9);
    let estimate = pacer.estimate_finish(start, 500);
    // The estimate leaves the pacer untouched: pacing for real gives the same.
    let mut real = Pacer::new(Pacing::default(), tz, 0, &[], 9);
    let sent = pace(&mut real, start, 500);
    assert_eq!(estimate, sent[499].0);
    assert_eq!(
        Pacer::new(Pacing::off(), tz, 0, &[], 0).estimate_finish(start, 500),
        start
    );
}

#[test]
fn settings_are_checked_and_risky_ones_named() {
    let ok = Pacing::default();
    assert_eq!(ok.validate(), Ok(()));
    assert!(ok.risks().is_empty(), "{:?}", ok.risks());

    let refused = [
        Pacing {
            min_delay_s: 61,
            ..ok.clone()
        },
        Pacing {
            batch_min: 30,
            ..ok.clone()
        },
        Pacing {
            rest_min_s: 700,
            ..ok.clone()
        },
        Pacing {
            batch_min: 0,
            batch_max: 0,
            ..ok.clone()
        },
        Pacing {
            per_minute: 0,
            ..ok.clone()
        },
        Pacing {
            max_delay_s: 100_000,
            ..ok.clone()
        },
        Pacing {
            window: Some(Window {
                start: LocalTime::hm(9, 0),
                end: LocalTime::hm(9, 0),
            }),
            ..ok.clone()
        },
    ];
    for pacing in refused {
        assert!(pacing.validate().is_err(), "{pacing:?}");
    }

    let risky = [
        (Pacing::off(), vec![Risk::PacingOff]),
        (
            Pacing {
                min_delay_s: 7,
                max_delay_s: 30,
                ..ok.clone()
            },
            vec![Risk::ShortDelay],
        ),
        (
            Pacing {
                min_delay_s: 30,
                max_delay_s: 32,
                ..ok.clone()
            },
            vec![Risk::RegularDelay],
        ),
        (
            Pacing {
                daily_cap: 0,
                ..ok.clone()
            },
            vec![Risk::HighDailyCap],
        ),
        (
            Pacing {
                hourly_cap: 400,
                ..ok.clone()
            },
            vec![Risk::HighHourlyCap],
        ),
        (
            Pacing {
                rest_min_s: 10,
                ..ok.clone()
            },
            vec![Risk::NoRest],
        ),
        (
            Pacing {
                warm_up_days: 0,
                ..ok.clone()
            },
            vec![Risk::NoWarmUp],
        ),
        (
            Pacing {
                window: None,
                ..ok.clone()
            },
            vec![Risk::NoWindow],
        ),
        (
            Pacing {
                error_streak: 0,
                ..ok.clone()
            },
            vec![Risk::NoErrorStop],
        ),
    ];
    for (pacing, risks) in risky {
        assert_eq!(pacing.risks(), risks, "{pacing:?}");
    }

    // Settings are stored as JSON with times of day as "HH:MM".
    let json = serde_json::to_value(&ok).unwrap_or_default();
    assert_eq!(json["window"]["start"], "09:00");
    let back: Pacing = serde_json::from_value(json).unwrap_or_else(|_| Pacing::off());
    assert_eq!(back, ok);
    let bad = serde_json::from_str::<Pacing>(r#"{"window": {"start": "9am", "end": "20:00"}}"#);
    assert!(bad.is_err_and(|e| e.to_string().contains("9am")));
}

#[test]
fn the_presets_are_valid_riskless_distinct_and_known_again() {
    use blastdesk_core::pacing::Preset;
    assert_eq!(Pacing::preset(Preset::Normal), Pacing::default());
    let mut rates = Vec::new();
    for preset in Preset::ALL {
        let pacing = Pacing::preset(preset);
        assert_eq!(pacing.validate(), Ok(()), "{preset:?}");
        assert!(
            pacing.risks().is_empty(),
            "{preset:?}: {:?}",
            pacing.risks()
        );
        assert_eq!(Preset::of(&pacing), Some(preset));
        rates.push(pacing.typical_per_hour());
    }
    // Slowest first, each with what it means.
    assert_eq!(rates, [Some(30), Some(60), Some(100)]);
    let changed = Pacing {
        warm_up_days: 3,
        ..Pacing::default()
    };
    assert_eq!(Preset::of(&changed), None, "a changed preset is custom");
    assert_eq!(Pacing::off().typical_per_hour(), None);
}
