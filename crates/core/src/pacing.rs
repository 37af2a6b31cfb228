//! Pacing: when an account may send its next message.
//!
//! WhatsApp bans on patterns, so an account sends one message at a time, with
//! a random delay between messages, a longer rest after every batch of a
//! random size, no more than an hourly and a daily cap (the daily cap grows
//! over the first days of a new account: "warm-up"), only inside a sending
//! window in the account's time zone, and never faster than a hard per-minute
//! ceiling kept by a `governor` rate limiter. The defaults follow what users of
//! bulk senders report (see ARCHITECTURE.md).
//!
//! [`Pacer`] is pure: it reads no clock and no database. It is built from the
//! account's recent sends (so caps hold across restarts) and asked, for an
//! instant, when the next message may go and why not sooner. The same code
//! estimates when a blast will finish, by pacing it forward in imagined time.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::random::SplitMix64;
use crate::zone;

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
/// A new account's daily cap on its first day, when warm-up is on.
pub const WARM_UP_START: u32 = 50;

/// An account's pacing settings, as the person sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pacing {
    /// Off: send as fast as the messenger accepts (tests, rehearsals).
    pub enabled: bool,
    pub min_delay_s: u32,
    pub max_delay_s: u32,
    /// A rest after a batch whose size is drawn between these.
    pub batch_min: u32,
    pub batch_max: u32,
    pub rest_min_s: u32,
    pub rest_max_s: u32,
    /// A hard ceiling whatever the delays say.
    pub per_minute: u32,
    /// 0: no cap.
    pub hourly_cap: u32,
    /// 0: no cap.
    pub daily_cap: u32,
    /// Over this many days from the account's start the daily cap rises from
    /// [`WARM_UP_START`] to `daily_cap`. 0: no warm-up.
    pub warm_up_days: u32,
    /// Send only between these local times in the account's zone.
    pub window: Option<Window>,
    /// Pause the account's blasts after this many failures in a row. 0: never.
    pub error_streak: u32,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            enabled: true,
            min_delay_s: 20,
            max_delay_s: 60,
            batch_min: 15,
            batch_max: 25,
            rest_min_s: 3 * 60,
            rest_max_s: 10 * 60,
            per_minute: 6,
            hourly_cap: 60,
            daily_cap: 200,
            warm_up_days: 14,
            window: Some(Window {
                start: LocalTime::hm(9, 0),
                end: LocalTime::hm(20, 0),
            }),
            error_streak: 5,
        }
    }
}

impl Pacing {
    /// No pacing at all.
    pub fn off() -> Pacing {
        Pacing {
            enabled: false,
            ..Pacing::default()
        }
    }

    /// Refuses settings that cannot work.
    pub fn validate(&self) -> Result<(), PacingError> {
        use PacingError::*;
        if self.min_delay_s > self.max_delay_s {
            return Err(RangeReversed { setting: "delay" });
        }
        if self.batch_min > self.batch_max {
            return Err(RangeReversed {
                setting: "batch size",
            });
        }
        if self.rest_min_s > self.rest_max_s {
            return Err(RangeReversed { setting: "rest" });
        }
        if self.batch_min == 0 {
            return Err(Zero {
                setting: "batch size",
            });
        }
        if self.per_minute == 0 {
            return Err(Zero {
                setting: "messages per minute",
            });
        }
        if self.max_delay_s > 24 * 3600 || self.rest_max_s > 24 * 3600 {
            return Err(TooLong);
        }
        if let Some(window) = self.window
            && window.start == window.end
        {
            return Err(EmptyWindow);
        }
        Ok(())
    }

    /// What in these settings raises the risk of a ban, most serious first.
    pub fn risks(&self) -> Vec<Risk> {
        if !self.enabled {
            return vec![Risk::PacingOff];
        }
        let mut risks = Vec::new();
        if self.min_delay_s < 15 {
            risks.push(Risk::ShortDelay);
        }
        if self.max_delay_s.saturating_sub(self.min_delay_s) < 10 {
            risks.push(Risk::RegularDelay);
        }
        if self.daily_cap == 0 || self.daily_cap > 500 {
            risks.push(Risk::HighDailyCap);
        }
        if self.hourly_cap == 0 || self.hourly_cap > 180 || self.per_minute > 10 {
            risks.push(Risk::HighHourlyCap);
        }
        if self.batch_max > 50 || self.rest_min_s < 60 {
            risks.push(Risk::NoRest);
        }
        if self.warm_up_days == 0 {
            risks.push(Risk::NoWarmUp);
        }
        if self.window.is_none() {
            risks.push(Risk::NoWindow);
        }
        if self.error_streak == 0 {
            risks.push(Risk::NoErrorStop);
        }
        risks
    }
}

/// A ready-made set of pacing settings: what the owner picks instead of
/// setting every number. Defined here once; the window shows them with what
/// they mean ([`Pacing::typical_per_hour`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Slow and careful: a new number, a first blast, a cold list.
    Safe,
    /// The defaults (see ARCHITECTURE.md): a number in everyday use.
    Normal,
    /// Quicker, still inside what carries no named risk: a number that has
    /// sent for weeks to customers who know the shop.
    Fast,
}

impl Preset {
    /// Every preset, slowest first.
    pub const ALL: [Preset; 3] = [Preset::Safe, Preset::Normal, Preset::Fast];

    /// The preset these settings are exactly, if any.
    pub fn of(pacing: &Pacing) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|preset| Pacing::preset(*preset) == *pacing)
    }
}

impl Pacing {
    /// The settings of a preset.
    pub fn preset(preset: Preset) -> Pacing {
        match preset {
            Preset::Safe => Pacing {
                enabled: true,
                min_delay_s: 45,
                max_delay_s: 120,
                batch_min: 10,
                batch_max: 20,
                rest_min_s: 5 * 60,
                rest_max_s: 15 * 60,
                per_minute: 3,
                hourly_cap: 30,
                daily_cap: 100,
                warm_up_days: 21,
                window: Some(Window {
                    start: LocalTime::hm(9, 0),
                    end: LocalTime::hm(19, 0),
                }),
                error_streak: 3,
            },
            Preset::Normal => Pacing::default(),
            Preset::Fast => Pacing {
                enabled: true,
                min_delay_s: 15,
                max_delay_s: 40,
                batch_min: 20,
                batch_max: 40,
                rest_min_s: 2 * 60,
                rest_max_s: 5 * 60,
                per_minute: 8,
                hourly_cap: 120,
                daily_cap: 400,
                warm_up_days: 7,
                window: Some(Window {
                    start: LocalTime::hm(8, 0),
                    end: LocalTime::hm(21, 0),
                }),
                error_streak: 5,
            },
        }
    }

    /// About how many messages an hour these settings send inside the
    /// sending window, once warmed up: the average delay and the average
    /// rest per batch, held to the hourly cap and the per-minute ceiling;
    /// rounded to tens above 20 (it is "about"). `None` when pacing is off.
    pub fn typical_per_hour(&self) -> Option<u32> {
        if !self.enabled {
            return None;
        }
        let batch = f64::from(self.batch_min + self.batch_max) / 2.0;
        let delay = f64::from(self.min_delay_s + self.max_delay_s) / 2.0;
        let rest = f64::from(self.rest_min_s + self.rest_max_s) / 2.0;
        let per_batch_s = batch * delay + rest;
        let mut rate = if per_batch_s > 0.0 {
            3600.0 * batch / per_batch_s
        } else {
            f64::INFINITY
        };
        rate = rate.min(f64::from(self.per_minute) * 60.0);
        if self.hourly_cap > 0 {
            rate = rate.min(f64::from(self.hourly_cap));
        }
        let rate = rate.max(1.0);
        let rounded = if rate > 20.0 {
            (rate / 10.0).round() * 10.0
        } else {
            rate.round()
        };
        Some(rounded as u32)
    }
}

/// Why pacing settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum PacingError {
    #[error("the smallest {setting} is larger than the largest")]
    RangeReversed { setting: &'static str },
    #[error("the {setting} must be at least 1")]
    Zero { setting: &'static str },
    #[error("a delay or rest longer than a day is not allowed")]
    TooLong,
    #[error("the sending window starts when it ends, so it is empty")]
    EmptyWindow,
}

/// A setting that makes a ban more likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    PacingOff,
    ShortDelay,
    RegularDelay,
    HighDailyCap,
    HighHourlyCap,
    NoRest,
    NoWarmUp,
    NoWindow,
    NoErrorStop,
}

impl Risk {
    /// Every risk, for those that show them by code (the window translates them).
    pub const ALL: [Risk; 9] = [
        Risk::PacingOff,
        Risk::ShortDelay,
        Risk::RegularDelay,
        Risk::HighDailyCap,
        Risk::HighHourlyCap,
        Risk::NoRest,
        Risk::NoWarmUp,
        Risk::NoWindow,
        Risk::NoErrorStop,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Risk::PacingOff => "pacing_off",
            Risk::ShortDelay => "short_delay",
            Risk::RegularDelay => "regular_delay",
            Risk::HighDailyCap => "high_daily_cap",
            Risk::HighHourlyCap => "high_hourly_cap",
            Risk::NoRest => "no_rest",
            Risk::NoWarmUp => "no_warm_up",
            Risk::NoWindow => "no_window",
            Risk::NoErrorStop => "no_error_stop",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Risk::PacingOff => {
                "Pacing is off: messages go out as fast as possible. Use this only for rehearsals."
            }
            Risk::ShortDelay => {
                "Less than 15 seconds between messages: accounts have been banned at 7 to 13 seconds."
            }
            Risk::RegularDelay => {
                "The delay barely varies: WhatsApp spots messages sent at fixed intervals."
            }
            Risk::HighDailyCap => {
                "More than 500 messages a day (or no daily cap): numbers are often banned at such volumes."
            }
            Risk::HighHourlyCap => {
                "More than 180 messages an hour (or no hourly cap) is a pattern WhatsApp bans."
            }
            Risk::NoRest => "Without regular rests between batches, sending looks automated.",
            Risk::NoWarmUp => {
                "No warm-up: a newly linked number sending its full daily cap at once is at risk."
            }
            Risk::NoWindow => {
                "No sending window: messages at night get reported by recipients, which leads to bans."
            }
            Risk::NoErrorStop => {
                "Blasts will not pause on a run of errors, which can be the first sign of a ban."
            }
        }
    }
}

/// A local time of day, written "HH:MM".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    /// A time from hours and minutes; out-of-range values are clamped.
    pub fn hm(hour: u32, minute: u32) -> LocalTime {
        LocalTime(NaiveTime::from_hms_opt(hour.min(23), minute.min(59), 0).unwrap_or_default())
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl TryFrom<String> for LocalTime {
    type Error = String;

    fn try_from(text: String) -> Result<LocalTime, String> {
        NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .map(LocalTime)
            .map_err(|_| format!("\"{text}\" is not a time of day like 09:00"))
    }
}

impl From<LocalTime> for String {
    fn from(time: LocalTime) -> String {
        time.0.format("%H:%M").to_string()
    }
}

/// Sending hours. An `end` before `start` runs past midnight (22:00-06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: LocalTime,
    pub end: LocalTime,
}

impl Window {
    fn contains(self, time: NaiveTime) -> bool {
        if self.start < self.end {
            self.start.0 <= time && time < self.end.0
        } else {
            time >= self.start.0 || time < self.end.0
        }
    }

    /// The next opening at or after `at`, which lies outside the window.
    fn next_opening(self, tz: Tz, at: Millis) -> Millis {
        let local = zone::local(tz, at);
        let date = if local.time() < self.start.0 {
            local.date()
        } else {
            local.date() + Duration::days(1)
        };
        zone::at(tz, date, self.start.0).max(at)
    }
}

/// Why the next message waits, from the least to the most telling reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    PerMinuteLimit,
    Delay,
    BatchRest,
    OutsideWindow,
    HourlyCap,
    DailyCap,
}

/// When the next message may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub at: Millis,
    /// Why not at once (the last rule that pushed the time back).
    pub reason: Option<WaitReason>,
}

/// The governor limiter's clock: it reads the instant the pacer was asked
/// about, so the ceiling holds in real and in imagined time alike.
#[derive(Debug, Clone, Default)]
struct AskedTime(Arc<AtomicU64>);

impl GovernorClock for AskedTime {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.0.load(Ordering::SeqCst))
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, AskedTime, NoOpMiddleware<Nanos>>;

/// The pacing state of one account.
pub struct Pacer {
    policy: Pacing,
    tz: Tz,
    /// The local date the account started (for warm-up).
    first_day: NaiveDate,
    random: SplitMix64,
    /// Sends of the last 26 hours, oldest first: enough for the hourly cap
    /// and for the daily cap of any local day.
    recent: VecDeque<Millis>,
    /// The delay or rest drawn after the last send, and which it was.
    earliest: Millis,
    earliest_reason: WaitReason,
    in_batch: u32,
    batch_size: u32,
    asked: AskedTime,
    limiter: Limiter,
}

impl Pacer {
    /// A pacer for an account in `tz`, started at `account_since`, that sent
    /// at the instants in `history` (any order). `seed` fixes its random draws.
    pub fn new(
        policy: Pacing,
        tz: Tz,
        account_since: Millis,
        history: &[Millis],
        seed: u64,
    ) -> Pacer {
        let mut random = SplitMix64::new(seed);
        let batch_size = draw(&mut random, policy.batch_min, policy.batch_max);
        let asked = AskedTime::default();
        let per_minute = NonZeroU32::new(policy.per_minute).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::direct_with_clock(
            Quota::per_minute(per_minute).allow_burst(NonZeroU32::MIN),
            asked.clone(),
        );
        let mut pacer = Pacer {
            first_day: zone::local(tz, account_since).date(),
            tz,
            random,
            recent: VecDeque::new(),
            earliest: Millis::MIN,
            earliest_reason: WaitReason::Delay,
            in_batch: 0,
            batch_size,
            asked,
            limiter,
            policy,
        };
        let mut history = history.to_vec();
        history.sort_unstable();
        for at in history {
            pacer.take_place(at);
            pacer.record_send(at);
        }
        pacer
    }

    pub fn policy(&self) -> &Pacing {
        &self.policy
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The earliest instant at or after `now` at which the next message may
    /// go, by every rule but the per-minute ceiling (see [`Pacer::admit`]).
    pub fn next_slot(&self, now: Millis) -> Slot {
        if !self.policy.enabled {
            return Slot {
                at: now,
                reason: None,
            };
        }
        let mut at = now;
        // Of the rules that pushed the time back, the one that says most.
        let mut reason: Option<WaitReason> = None;
        let mut because = |why: WaitReason| {
            reason = Some(reason.map_or(why, |r| r.max(why)));
        };
        if self.earliest > at {
            at = self.earliest;
            because(self.earliest_reason);
        }
        // Each rule can only move the time later; stop when none does.
        for _ in 0..64 {
            let before = at;
            if let Some(free) = self.hourly_free_at(at) {
                at = free;
                because(WaitReason::HourlyCap);
            }
            if self.daily_full(at) {
                let tomorrow = zone::local(self.tz, at).date() + Duration::days(1);
                at = zone::at(self.tz, tomorrow, NaiveTime::MIN).max(at + 1);
                because(WaitReason::DailyCap);
            }
            if let Some(window) = self.policy.window
                && !window.contains(zone::local(self.tz, at).time())
            {
                at = window.next_opening(self.tz, at);
                because(WaitReason::OutsideWindow);
            }
            if at == before {
                break;
            }
        }
        Slot { at, reason }
    }

    /// Asks the per-minute ceiling for a message at `now`: `Ok` takes the
    /// place, `Err` says when to ask again.
    pub fn admit(&mut self, now: Millis) -> Result<(), Millis> {
        if !self.policy.enabled {
            return Ok(());
        }
        self.asked.0.store(to_nanos(now), Ordering::SeqCst);
        match self.limiter.check() {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let nanos = not_until.earliest_possible().as_u64();
                Err((nanos.div_ceil(1_000_000) as Millis).max(now + 1))
            }
        }
    }

    /// Records a message handed over at `at`, and draws the wait before the next.
    pub fn record_send(&mut self, at: Millis) {
        self.recent.push_back(at);
        while self
            .recent
            .front()
            .is_some_and(|&first| first <= at - 26 * HOUR)
        {
            self.recent.pop_front();
        }
        if !self.policy.enabled {
            return;
        }
        // A pause as long as a rest (a closed window, a cap) ends the batch.
        let previous = self.recent.iter().rev().nth(1).copied();
        if previous.is_some_and(|p| at - p >= Millis::from(self.policy.rest_min_s) * SECOND) {
            self.in_batch = 0;
        }
        self.in_batch += 1;
        if self.in_batch >= self.batch_size {
            self.in_batch = 0;
            self.batch_size = draw(
                &mut self.random,
                self.policy.batch_min,
                self.policy.batch_max,
            );
            let rest = draw(
                &mut self.random,
                self.policy.rest_min_s,
                self.policy.rest_max_s,
            );
            self.earliest = at + Millis::from(rest) * SECOND;
            self.earliest_reason = WaitReason::BatchRest;
        } else {
            let delay = draw_ms(
                &mut self.random,
                self.policy.min_delay_s,
                self.policy.max_delay_s,
            );
            self.earliest = at + delay;
            self.earliest_reason = WaitReason::Delay;
        }
    }

    /// Counts a message against the per-minute ceiling, whatever it says.
    fn take_place(&mut self, at: Millis) {
        self.asked.0.store(to_nanos(at), Ordering::SeqCst);
        let _ = self.limiter.check();
    }

    /// When `remaining` messages would all be handed over, starting at
    /// `now`, if every one succeeded at once. Paces in imagined time with a
    /// copy of this pacer, so the real pacer's draws are untouched.
    pub fn estimate_finish(&self, now: Millis, remaining: u64) -> Millis {
        if !self.policy.enabled || remaining == 0 {
            return now;
        }
        let mut imagined = self.imagine();
        let mut at = now;
        for _ in 0..remaining {
            loop {
                at = imagined.next_slot(at).at;
                match imagined.admit(at) {
                    Ok(()) => break,
                    Err(later) => at = later,
                }
            }
            imagined.record_send(at);
        }
        at
    }

    fn imagine(&self) -> Pacer {
        let asked = AskedTime::default();
        let per_minute = NonZeroU32::new(self.policy.per_minute).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::direct_with_clock(
            Quota::per_minute(per_minute).allow_burst(NonZeroU32::MIN),
            asked.clone(),
        );
        let mut imagined = Pacer {
            policy: self.policy.clone(),
            tz: self.tz,
            first_day: self.first_day,
            random: self.random.clone(),
            recent: self.recent.clone(),
            earliest: self.earliest,
            earliest_reason: self.earliest_reason,
            in_batch: self.in_batch,
            batch_size: self.batch_size,
            asked,
            limiter,
        };
        // With a burst of one, the last message is all the ceiling remembers.
        if let Some(&last) = self.recent.back() {
            imagined.take_place(last);
        }
        imagined
    }

    /// If the hourly cap is reached at `at`, when a place frees up.
    fn hourly_free_at(&self, at: Millis) -> Option<Millis> {
        let cap = self.policy.hourly_cap as usize;
        if cap == 0 {
            return None;
        }
        // `recent` is in time order.
        let from = self.recent.partition_point(|&t| t <= at - HOUR);
        let to = self.recent.partition_point(|&t| t <= at);
        if to - from < cap {
            return None;
        }
        // The message that must leave the hour for one more to fit.
        Some(self.recent[to - cap] + HOUR)
    }

    /// The daily cap on a local date, warm-up included.
    pub fn daily_cap_on(&self, date: NaiveDate) -> u32 {
        let cap = self.policy.daily_cap;
        let days = self.policy.warm_up_days;
        if cap == 0 || days == 0 || cap <= WARM_UP_START {
            return cap;
        }
        let day = (date - self.first_day).num_days().max(0) as u64;
        if day >= u64::from(days) {
            return cap;
        }
        WARM_UP_START + ((u64::from(cap - WARM_UP_START) * day) / u64::from(days)) as u32
    }

    fn daily_full(&self, at: Millis) -> bool {
        let date = zone::local(self.tz, at).date();
        let cap = self.daily_cap_on(date);
        if cap == 0 {
            return false;
        }
        let start = zone::at(self.tz, date, NaiveTime::MIN);
        let end = zone::at(self.tz, date + Duration::days(1), NaiveTime::MIN);
        let sent =
            self.recent.partition_point(|&t| t < end) - self.recent.partition_point(|&t| t < start);
        sent >= cap as usize
    }
}

fn draw(random: &mut SplitMix64, low: u32, high: u32) -> u32 {
    random.between(u64::from(low), u64::from(high)) as u32
}

/// A delay in milliseconds between `low` and `high` seconds.
fn draw_ms(random: &mut SplitMix64, low_s: u32, high_s: u32) -> Millis {
    random.between(u64::from(low_s) * 1_000, u64::from(high_s) * 1_000) as Millis
}

fn to_nanos(at: Millis) -> u64 {
    u64::try_from(at).unwrap_or(0).saturating_mul(1_000_000)
}
