//! Hold deadlines: "not to exceed 48 hours, excluding Saturdays, Sundays, and holidays"
//! (8 CFR 287.7(d)) and the flat 48 hours of Form I-247A.
//!
//! Written by hand: the federal holiday calendar is eleven rules of 5 U.S.C. § 6103, and no
//! maintained crate computes an elapsed-time deadline that skips whole local days.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

/// Days a deadline does not run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipDay {
    /// Saturdays.
    Saturday,
    /// Sundays.
    Sunday,
    /// Legal public holidays of 5 U.S.C. § 6103(a), as observed under § 6103(b).
    FederalHoliday,
}

/// The instant `hours` of running time after `from`, where time does not run on the local
/// days (in `tz`) that `skip` names; `None` when it would fall past the calendar's end
/// (year 9999).
pub fn deadline(from: Timestamp, hours: i64, skip: &[SkipDay], tz: &TimeZone) -> Option<Timestamp> {
    let mut remaining = jiff::SignedDuration::from_hours(hours);
    let mut at = from;
    loop {
        let local = at.to_zoned_datetime(tz.clone());
        let next_midnight = local
            .date()
            .tomorrow()
            .ok()?
            .to_zoned_datetime(tz.clone())
            .ok()?
            .timestamp();
        if !skipped(local.date(), skip) {
            let left_today = at.duration_until(next_midnight);
            if remaining <= left_today {
                return at.checked_add(remaining).ok();
            }
            remaining -= left_today;
        }
        at = next_midnight;
    }
}

fn skipped(day: Date, skip: &[SkipDay]) -> bool {
    skip.iter().any(|s| match s {
        SkipDay::Saturday => day.weekday() == Weekday::Saturday,
        SkipDay::Sunday => day.weekday() == Weekday::Sunday,
        SkipDay::FederalHoliday => is_federal_holiday(day),
    })
}

/// Whether `day` is a legal public holiday under 5 U.S.C. § 6103, as observed: a holiday
/// on a Saturday is observed the Friday before, on a Sunday the Monday after.
pub fn is_federal_holiday(day: Date) -> bool {
    // Every deadline asks of several days: the observed holidays of the years requests
    // fall in are listed once, and looked up.
    static OBSERVED: std::sync::OnceLock<std::collections::HashSet<Date>> =
        std::sync::OnceLock::new();
    if (TABLE_FROM..=TABLE_TO).contains(&day.year()) {
        let table = OBSERVED.get_or_init(|| {
            (TABLE_FROM..=TABLE_TO + 1)
                .flat_map(holidays)
                .map(observed)
                .collect()
        });
        return table.contains(&day);
    }
    computed_holiday(day)
}

/// The years whose observed holidays [`is_federal_holiday`] keeps listed.
const TABLE_FROM: i16 = 1950;
const TABLE_TO: i16 = 2100;

/// [`is_federal_holiday`], computed from the rules for `day`'s year and the next.
fn computed_holiday(day: Date) -> bool {
    let year = day.year();
    // The observed day of a holiday of this year or of next New Year's Day, which may be
    // observed on December 31.
    [year, year + 1]
        .into_iter()
        .flat_map(holidays)
        .any(|h| observed(h) == day)
}

fn observed(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => day.yesterday().expect("in range"),
        Weekday::Sunday => day.tomorrow().expect("in range"),
        _ => day,
    }
}

/// The legal public holidays of `year` (5 U.S.C. § 6103(a)), on their nominal days.
fn holidays(year: i16) -> Vec<Date> {
    let date = |m, d| Date::new(year, m, d).expect("valid holiday date");
    let nth = |m, weekday, n: i8| date(m, 1).nth_weekday_of_month(n, weekday).expect("exists");
    let mut days = vec![
        date(1, 1),                    // New Year's Day
        nth(1, Weekday::Monday, 3),    // Birthday of Martin Luther King, Jr. (from 1986)
        nth(2, Weekday::Monday, 3),    // Washington's Birthday
        nth(5, Weekday::Monday, -1),   // Memorial Day
        date(7, 4),                    // Independence Day
        nth(9, Weekday::Monday, 1),    // Labor Day
        nth(10, Weekday::Monday, 2),   // Columbus Day
        date(11, 11),                  // Veterans Day
        nth(11, Weekday::Thursday, 4), // Thanksgiving Day
        date(12, 25),                  // Christmas Day
    ];
    if year >= 2021 {
        // Juneteenth National Independence Day (Pub. L. 117-17, 2021-06-17).
        days.push(date(6, 19));
    }
    if year < 1986 {
        days.remove(1);
    }
    days
}

/// `from` plus a flat number of hours.
pub fn flat_deadline(from: Timestamp, hours: i64) -> Option<Timestamp> {
    from.checked_add(hours.hours()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_holidays_are_the_rules_every_day_of_the_table_and_past_it() {
        let mut day = Date::new(TABLE_FROM - 1, 12, 1).unwrap();
        let end = Date::new(TABLE_TO + 1, 2, 1).unwrap();
        let mut holidays = 0;
        while day <= end {
            assert_eq!(is_federal_holiday(day), computed_holiday(day), "{day}");
            holidays += usize::from(is_federal_holiday(day));
            day = day.tomorrow().unwrap();
        }
        assert!(holidays > 150 * 10, "{holidays}");
    }

    #[test]
    fn a_deadline_past_the_calendar_is_none_not_a_panic() {
        let end = ts("9999-12-30T15:00:00Z");
        assert_eq!(deadline(end, 48, ALL, &ny()), None);
        assert_eq!(flat_deadline(end, 48), None);
    }

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const ALL: &[SkipDay] = &[SkipDay::Saturday, SkipDay::Sunday, SkipDay::FederalHoliday];

    #[test]
    fn published_holiday_calendar() {
        // OPM's published federal holidays (observed dates).
        for d in [
            "2018-01-01",
            "2018-01-15",
            "2018-02-19",
            "2018-05-28",
            "2018-07-04",
            "2018-09-03",
            "2018-10-08",
            "2018-11-12",
            "2018-11-22",
            "2018-12-25",
            "2021-06-18",
            "2021-12-24",
            "2021-12-31",
            "2022-06-20",
            "2023-01-02",
            "2026-07-03",
            "2026-11-26",
        ] {
            assert!(is_federal_holiday(d.parse().unwrap()), "{d}");
        }
        for d in [
            "2018-11-11",
            "2020-06-19",
            "2018-03-05",
            "2021-06-19",
            "2026-07-04",
        ] {
            assert!(!is_federal_holiday(d.parse().unwrap()), "{d}");
        }
    }

    #[test]
    fn weekday_release_runs_48_hours_straight() {
        // Monday 10:00 → Wednesday 10:00.
        let d = deadline(ts("2018-03-05T15:00:00Z"), 48, ALL, &ny()).unwrap();
        assert_eq!(d, ts("2018-03-07T15:00:00Z"));
    }

    #[test]
    fn friday_release_skips_the_weekend() {
        // Friday 2018-03-02 10:00 EST: 14 h Friday, weekend skipped, 24 h Monday, 10 h
        // Tuesday → Tuesday 10:00.
        let d = deadline(ts("2018-03-02T15:00:00Z"), 48, ALL, &ny()).unwrap();
        assert_eq!(d, ts("2018-03-06T15:00:00Z"));
        assert_eq!(
            flat_deadline(ts("2018-03-02T15:00:00Z"), 48).unwrap(),
            ts("2018-03-04T15:00:00Z")
        );
    }

    #[test]
    fn saturday_release_starts_on_monday_and_skips_holidays() {
        // Saturday 2018-11-10; Monday 11-12 is Veterans Day observed: runs Tue–Wed.
        let d = deadline(ts("2018-11-10T15:00:00Z"), 48, ALL, &ny()).unwrap();
        assert_eq!(d, ts("2018-11-15T05:00:00Z"));
    }

    #[test]
    fn dst_change_counts_real_hours() {
        // Thursday 2018-03-08 12:00 EST; Sunday 03-11 (DST start) is skipped anyway:
        // 12 h Thu, 24 h Fri, then 12 h Monday → Monday 12:00 EDT = 16:00Z.
        let d = deadline(ts("2018-03-08T17:00:00Z"), 48, ALL, &ny()).unwrap();
        assert_eq!(d, ts("2018-03-12T16:00:00Z"));
    }
}
