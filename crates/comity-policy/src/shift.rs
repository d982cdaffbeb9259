//! Moving an inherited case file into the period of the version that inherits it.
//!
//! An amendment inherits the cases of what it amends, and they must hold under it too; but a
//! case is dated, and its dates fall before the amendment. Every date and instant of its
//! requests and expectations moves later by the same whole number of 52-week years (by
//! whole weeks when the version lasts less than that): the look-backs and deadlines the law
//! counts stay the same length, weekdays stay weekdays and seasons stay within days. A case
//! whose outcome turns on the calendar itself (a holiday, the day a list took effect) can
//! come out otherwise once moved: the amendment then writes that case file anew.

use comity_model::{Date, Instant};
use jiff::ToSpan;
use jiff::civil;
use serde_json::Value;

use crate::pack::Pack;

/// A year of whole weeks, in days.
const YEAR_OF_WEEKS: i64 = 364;

/// Moves the dates of a case file (`base`, each case's `with` and `expect`) so that its base
/// request is received while `pack` is in force; answers by how many days.
pub(crate) fn move_into(doc: &mut Value, pack: &Pack) -> Result<i64, String> {
    let received = doc
        .pointer("/base/received_at")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Instant>().ok())
        .ok_or("an inherited case file needs base.received_at to be moved into the version")?;
    let day = received
        .timestamp()
        .to_zoned_datetime(pack.tz.clone())
        .date();
    let days = offset_days(day, pack)?;
    let targets = ["/base"]
        .into_iter()
        .map(str::to_owned)
        .chain(cases_parts(doc));
    for pointer in targets.collect::<Vec<_>>() {
        if let Some(v) = doc.pointer_mut(&pointer) {
            move_value(v, days, pack);
        }
    }
    Ok(days)
}

/// The pointers of each case's `with` and `expect`.
fn cases_parts(doc: &Value) -> Vec<String> {
    let count = doc["cases"].as_array().map_or(0, Vec::len);
    (0..count)
        .flat_map(|i| [format!("/cases/{i}/with"), format!("/cases/{i}/expect")])
        .collect()
}

/// How many days later `day` must move to fall in `pack`'s period: whole 52-week years, or
/// whole weeks when that would overshoot the period.
fn offset_days(day: civil::Date, pack: &Pack) -> Result<i64, String> {
    let from = pack.manifest.effective_from.0;
    let until = pack.until_day().map(|u| u.0);
    let gap = i64::from(day.until(from).map_err(|e| e.to_string())?.get_days());
    let fits = |days: i64| {
        let moved = day.checked_add(days.days()).ok();
        moved.is_some_and(|m| m >= from && until.is_none_or(|u| m < u))
    };
    let by_years = YEAR_OF_WEEKS * ceil_div(gap.max(0), YEAR_OF_WEEKS);
    let by_weeks = 7 * ceil_div(gap.max(0), 7);
    [by_years, by_weeks]
        .into_iter()
        .find(|d| fits(*d))
        .ok_or_else(|| {
            format!(
                "its base request ({day}) cannot be moved by whole weeks into {}",
                pack.id
            )
        })
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// Moves every string of `v` that is a whole date or instant `days` later (instants by the
/// calendar of `pack`'s time zone, keeping the wall-clock time).
fn move_value(v: &mut Value, days: i64, pack: &Pack) {
    match v {
        Value::String(s) => {
            if let Some(moved) = moved(s, days, pack) {
                *s = moved;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| move_value(i, days, pack)),
        Value::Object(map) => map.values_mut().for_each(|i| move_value(i, days, pack)),
        _ => {}
    }
}

fn moved(s: &str, days: i64, pack: &Pack) -> Option<String> {
    if let Ok(date) = s.parse::<Date>() {
        return Some(date.0.checked_add(days.days()).ok()?.to_string());
    }
    let instant = s.parse::<Instant>().ok()?;
    let zoned = instant
        .timestamp()
        .to_zoned_datetime(pack.tz.clone())
        .checked_add(days.days())
        .ok()?;
    Some(Instant::new(zoned.timestamp(), zoned.offset()).to_string())
}
