//! Opening hours: the `schedules:` of the workspace config compiled once into a time zone, a
//! week of ranges and closed dates. The checker validates them (`W404`) with the same
//! compiler the runtime evaluates them with (`open support`, `next_open(support)`), so what
//! lint accepts is what runs. Time zones come from the IANA database bundled with jiff; local
//! wall-clock times are matched, so a daylight-saving change moves the instants, not the hours.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use serde::Deserialize;

/// `schedules: { support: { time_zone: Europe/Paris, hours: { monday: 09:00-18:00 }, closed: [2026-12-25] } }`
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// An IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Day name → `HH:MM-HH:MM` or a list of them; a day left out is closed.
    #[serde(default)]
    pub hours: BTreeMap<String, Ranges>,
    /// Dates (`YYYY-MM-DD`) closed all day, such as public holidays.
    #[serde(default)]
    pub closed: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Ranges {
    One(String),
    Many(Vec<String>),
}

impl Ranges {
    fn texts(&self) -> Vec<&str> {
        match self {
            Ranges::One(one) => vec![one.as_str()],
            Ranges::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// The day names of `hours`, Monday first.
pub const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A compiled schedule.
#[derive(Clone, Debug)]
pub struct Schedule {
    zone: TimeZone,
    /// Per weekday (Monday first): open ranges in minutes after midnight, sorted, `[start, end)`.
    week: [Vec<(u16, u16)>; 7],
    closed: BTreeSet<Date>,
}

/// A problem of a schedule: the keys under the schedule where it is, what, and a help.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub at: Vec<String>,
    pub message: String,
    pub help: String,
}

/// How far ahead `next_open` looks (a schedule closed for longer has no next opening).
const HORIZON_DAYS: i32 = 400;

impl Schedule {
    /// Compiles `spec`, or every problem found in it.
    pub fn compile(spec: &ScheduleSpec) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let zone = TimeZone::get(&spec.time_zone).ok();
        if zone.is_none() {
            problems.push(Problem {
                at: vec!["time_zone".into()],
                message: format!("`{}` is not a time zone", spec.time_zone),
                help:
                    "use an IANA time zone name such as `Europe/Paris`, `America/New_York` or `UTC`"
                        .into(),
            });
        }
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (day, ranges) in &spec.hours {
            let Some(index) = DAYS.iter().position(|d| d == day) else {
                let hint = crate::diagnostic::did_you_mean(day, DAYS.iter().copied())
                    .unwrap_or_else(|| format!("the days are {}", DAYS.join(", ")));
                problems.push(Problem {
                    at: vec!["hours".into(), day.clone()],
                    message: format!("`{day}` is not a day of the week"),
                    help: hint,
                });
                continue;
            };
            let at = || vec!["hours".to_owned(), day.clone()];
            for text in ranges.texts() {
                match parse_range(text) {
                    Ok(range) => week[index].push(range),
                    Err(problem) => problems.push(Problem {
                        at: at(),
                        message: format!("`{text}` on {day}: {problem}"),
                        help: "write opening hours as `HH:MM-HH:MM`, e.g. `09:00-18:00` (a day that ends at midnight: `20:00-24:00`)".into(),
                    }),
                }
            }
            week[index].sort_unstable();
            for pair in week[index].windows(2) {
                if let [(a_start, a_end), (b_start, b_end)] = pair
                    && b_start < a_end
                {
                    problems.push(Problem {
                        at: at(),
                        message: format!(
                            "on {day}, {} overlaps {}",
                            show_range(*b_start, *b_end),
                            show_range(*a_start, *a_end)
                        ),
                        help: "join them into one range, or make them follow each other".into(),
                    });
                }
            }
        }
        let mut closed = BTreeSet::new();
        for text in &spec.closed {
            match text.parse::<Date>() {
                Ok(date) if date.to_string() == *text => {
                    closed.insert(date);
                }
                _ => problems.push(Problem {
                    at: vec!["closed".into()],
                    message: format!("`{text}` is not a date"),
                    help: "write closed dates as `YYYY-MM-DD`, e.g. `2026-12-25`".into(),
                }),
            }
        }
        match zone {
            Some(zone) if problems.is_empty() => Ok(Schedule { zone, week, closed }),
            _ => Err(problems),
        }
    }

    /// Whether it is open at `at` (milliseconds since the Unix epoch).
    pub fn is_open(&self, at_ms: i64) -> bool {
        let Some(now) = self.local(at_ms) else {
            return false;
        };
        let date = now.date();
        if self.closed.contains(&date) {
            return false;
        }
        let minute = minute_of(&now);
        self.ranges(date.weekday())
            .iter()
            .any(|(start, end)| *start <= minute && minute < *end)
    }

    /// The next moment after `at` when it opens (a range's start on an open day), in the
    /// schedule's time zone; `None` when it never opens within about a year.
    pub fn next_open(&self, at_ms: i64) -> Option<ZonedDateTime> {
        let now = self.local(at_ms)?;
        let today = now.date();
        for offset in 0..HORIZON_DAYS {
            let date = today.checked_add(jiff::Span::new().days(offset)).ok()?;
            if self.closed.contains(&date) {
                continue;
            }
            for (start, _) in self.ranges(date.weekday()) {
                let hour = i8::try_from(start / 60).ok()?;
                let minute = i8::try_from(start % 60).ok()?;
                // A start inside a DST gap moves forward, as the clocks do.
                let Ok(opening) = date
                    .at(hour, minute, 0, 0)
                    .to_zoned_datetime(self.zone.clone())
                else {
                    continue;
                };
                if opening.timestamp().as_millisecond() > at_ms {
                    return Some(opening);
                }
            }
        }
        None
    }

    /// `at` in the schedule's time zone.
    pub fn local(&self, at_ms: i64) -> Option<ZonedDateTime> {
        Some(
            Timestamp::from_millisecond(at_ms)
                .ok()?
                .to_zoned_datetime(self.zone.clone()),
        )
    }

    fn ranges(&self, weekday: Weekday) -> &[(u16, u16)] {
        let index = usize::try_from(weekday.to_monday_zero_offset()).unwrap_or(0);
        self.week.get(index).map_or(&[], Vec::as_slice)
    }
}

/// An instant written RFC 3339 with its offset (`2026-12-05T19:30:00+01:00`), as milliseconds
/// since the Unix epoch (what transcript tests' `at:` and `chat --at` take).
pub fn parse_instant(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|_| {
            format!("`{text}` is not a time with its offset, such as `2026-12-05T19:30:00+01:00`")
        })
}

fn minute_of(at: &ZonedDateTime) -> u16 {
    let time = at.time();
    u16::try_from(i32::from(time.hour()) * 60 + i32::from(time.minute())).unwrap_or(0)
}

/// `09:00-18:00` as minutes `[540, 1080)`.
fn parse_range(text: &str) -> Result<(u16, u16), String> {
    let (start, end) = text
        .split_once('-')
        .ok_or_else(|| "a range needs a start and an end".to_owned())?;
    let (start, end) = (parse_clock(start.trim())?, parse_clock(end.trim())?);
    if end <= start {
        return Err(format!(
            "it ends before it starts ({} is not after {})",
            show_clock(end),
            show_clock(start)
        ));
    }
    Ok((start, end))
}

/// `09:30` as 570; `24:00` (the end of the day) as 1440.
fn parse_clock(text: &str) -> Result<u16, String> {
    let bad = || format!("`{text}` is not a time of day");
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes > 59 || hours > 24 || (hours == 24 && minutes > 0) {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

fn show_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn show_range(start: u16, end: u16) -> String {
    format!("{}-{}", show_clock(start), show_clock(end))
}

/// The words of a date as a contact reads it, in one language.
struct Words {
    today: &'static str,
    tomorrow: &'static str,
    at: &'static str,
    days: [&'static str; 7],
    months: [&'static str; 12],
}

const ENGLISH: Words = Words {
    today: "today",
    tomorrow: "tomorrow",
    at: "at",
    days: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

const FRENCH: Words = Words {
    today: "aujourd'hui",
    tomorrow: "demain",
    at: "à",
    days: [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
};

/// When `opening` is, as a contact reads it from `now` (both in the schedule's zone), in
/// `language` (`fr`, else English): `today at 14:00`, `tomorrow at 09:00`, `Monday at 09:00`,
/// `Monday 4 January at 09:00`.
pub fn describe(opening: &ZonedDateTime, now: &ZonedDateTime, language: &str) -> String {
    let words = if language.to_ascii_lowercase().starts_with("fr") {
        &FRENCH
    } else {
        &ENGLISH
    };
    let date = opening.date();
    let clock = format!(
        "{:02}:{:02}",
        opening.time().hour(),
        opening.time().minute()
    );
    let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
    let day_name = words.days.get(weekday).copied().unwrap_or_default();
    let when = match (date - now.date()).get_days() {
        0 => words.today.to_owned(),
        1 => words.tomorrow.to_owned(),
        2..=6 => day_name.to_owned(),
        _ => {
            let month = usize::try_from(date.month() - 1).unwrap_or(0);
            let month = words.months.get(month).copied().unwrap_or_default();
            format!("{day_name} {} {month}", date.day())
        }
    };
    format!("{when} {} {clock}", words.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ScheduleSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn paris() -> Schedule {
        Schedule::compile(&spec(
            "time_zone: Europe/Paris\nhours:\n  monday: 09:00-18:00\n  tuesday: [09:00-12:00, 14:00-18:00]\n  wednesday: 09:00-18:00\n  thursday: 09:00-18:00\n  friday: 09:00-18:00\n  saturday: 10:00-13:00\nclosed: [2026-12-25]\n",
        ))
        .unwrap()
    }

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn open_by_the_local_clock_across_daylight_saving() {
        let schedule = paris();
        // Winter (UTC+1): 08:30 UTC is 09:30 in Paris.
        assert!(schedule.is_open(at("2026-12-07T08:30:00Z")));
        assert!(!schedule.is_open(at("2026-12-07T07:30:00Z")));
        // Summer (UTC+2): 07:30 UTC is 09:30 in Paris; 16:30 UTC is 18:30, closed.
        assert!(schedule.is_open(at("2026-06-08T07:30:00Z")));
        assert!(!schedule.is_open(at("2026-06-08T16:30:00Z")));
        // Tuesday's lunch break, Sunday, and a holiday.
        assert!(!schedule.is_open(at("2026-12-08T12:30:00Z")));
        assert!(!schedule.is_open(at("2026-12-06T10:00:00Z")));
        assert!(!schedule.is_open(at("2026-12-25T10:00:00Z")));
    }

    #[test]
    fn next_open_skips_closed_days_and_follows_the_clock_change() {
        let schedule = paris();
        // Saturday evening → Monday 09:00.
        let next = schedule.next_open(at("2026-12-05T18:30:00Z")).unwrap();
        assert_eq!(next.to_string(), "2026-12-07T09:00:00+01:00[Europe/Paris]");
        // Thursday 24 December evening → the 25th is closed → Saturday 26 at 10:00.
        let next = schedule.next_open(at("2026-12-24T19:00:00Z")).unwrap();
        assert_eq!(next.date().to_string(), "2026-12-26");
        // Saturday 28 March 2026 after closing → Monday 30 March, now in summer time.
        let next = schedule.next_open(at("2026-03-28T13:00:00Z")).unwrap();
        assert_eq!(next.to_string(), "2026-03-30T09:00:00+02:00[Europe/Paris]");
        // Tuesday's break → the afternoon.
        let next = schedule.next_open(at("2026-12-08T11:30:00Z")).unwrap();
        assert_eq!(next.time().hour(), 14);
    }

    #[test]
    fn described_for_the_contact_in_english_and_french() {
        let schedule = paris();
        let now = schedule.local(at("2026-12-05T18:30:00Z")).unwrap();
        let next = schedule.next_open(at("2026-12-05T18:30:00Z")).unwrap();
        assert_eq!(describe(&next, &now, "en"), "Monday at 09:00");
        assert_eq!(describe(&next, &now, "fr"), "lundi à 09:00");
        let now = schedule.local(at("2026-12-07T06:00:00Z")).unwrap();
        let next = schedule.next_open(at("2026-12-07T06:00:00Z")).unwrap();
        assert_eq!(describe(&next, &now, "en"), "today at 09:00");
        let now = schedule.local(at("2026-12-24T19:00:00Z")).unwrap();
        let next = schedule.next_open(at("2026-12-24T19:00:00Z")).unwrap();
        assert_eq!(describe(&next, &now, "fr"), "samedi à 10:00");
    }

    #[test]
    fn every_problem_is_reported_where_it_is() {
        let problems = Schedule::compile(&spec(
            "time_zone: Europe/Pariss\nhours:\n  mondy: 09:00-18:00\n  tuesday: [09:00-13:00, 12:00-18:00]\n  friday: 18:00-09:00\n  saturday: 9h-12h\nclosed: [2026-02-30]\n",
        ))
        .unwrap_err();
        let found: Vec<(String, &str)> = problems
            .iter()
            .map(|p| (p.at.join("."), p.message.as_str()))
            .collect();
        assert!(
            found
                .iter()
                .any(|(at, m)| at == "time_zone" && m.contains("Europe/Pariss")),
            "{found:?}"
        );
        assert!(found.iter().any(|(at, _)| at == "hours.mondy"), "{found:?}");
        assert!(problems.iter().any(|p| p.help.contains("monday")));
        assert!(
            found
                .iter()
                .any(|(at, m)| at == "hours.tuesday" && m.contains("overlaps")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(at, m)| at == "hours.friday" && m.contains("ends before")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(at, m)| at == "hours.saturday" && m.contains("9h")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(at, m)| at == "closed" && m.contains("2026-02-30")),
            "{found:?}"
        );
    }
}
