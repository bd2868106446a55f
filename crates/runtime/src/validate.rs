//! The validators of `expect`: what counts as an email, a phone number, a number or a date,
//! and what value a valid answer becomes. Lenient where people are (spaces, `,` as decimal
//! mark, common date forms), strict where a downstream system is (an email must be usable).

use super::program::{Check, Program};
use super::value::Value;
use scenarist_lang::answers::phone;

/// The value of a valid answer, or `None` when the answer does not pass the check.
/// Choices are matched by the caller, which knows the rendered labels.
pub fn check_answer(program: &Program, check: &Check, answer: &str) -> Option<Value> {
    let answer = answer.trim();
    match check {
        Check::Text | Check::Choice => (!answer.is_empty()).then(|| Value::text(answer)),
        Check::Email => is_email(answer).then(|| Value::Text(email(answer))),
        Check::Phone(region) => phone(answer, region.as_deref()).map(Value::Text),
        Check::Number(bounds) => number(answer)
            .filter(|n| within(*n, *bounds))
            .map(Value::Number),
        Check::Integer(bounds) => number(answer)
            .filter(|n| n.fract() == 0.0 && within(*n, *bounds))
            .map(Value::Number),
        Check::OneOf(texts) => {
            let answer = scenarist_lang::answers::normalize(answer);
            texts
                .iter()
                .find(|(normal, _)| *normal == answer)
                .map(|(_, text)| Value::text(text))
        }
        Check::Date => date(answer).map(Value::Text),
        Check::Pattern(key) => program
            .regex(key)
            .filter(|r| r.is_match(answer))
            .map(|_| Value::text(answer)),
    }
}

/// A pragmatic email check: one `@`, a non-empty local part without spaces, a domain with a
/// dot and no empty label. (The full RFC grammar accepts addresses no helpdesk can use.)
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let valid_chars =
        |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '@' || c == ',');
    valid_chars(local)
        && valid_chars(domain)
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && text.len() <= 254
}

/// Whether `n` lies within the bounds (both included), when there are bounds.
fn within(n: f64, bounds: Option<(f64, f64)>) -> bool {
    bounds.is_none_or(|(low, high)| low <= n && n <= high)
}

/// An email as saved: the domain lower-cased (domains ignore case; the local part may not).
fn email(text: &str) -> String {
    match text.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => text.to_owned(),
    }
}

/// A number, accepting a `,` decimal mark and spaces between thousands.
fn number(text: &str) -> Option<f64> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date as `YYYY-MM-DD`, from `2026-11-28`, `28/11/2026` or `28.11.2026` (day first, as in
/// most of the world; an ambiguous US-style date is read day first).
pub fn date(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (year, month, day) = if a.len() == 4 {
        (*a, *b, *c)
    } else {
        (*c, *b, *a)
    };
    let (year, month, day) = (
        year.parse::<u32>().ok()?,
        month.parse::<u32>().ok()?,
        day.parse::<u32>().ok()?,
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1000..=9999).contains(&year) && (1..=days).contains(&day))
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("ada@example.com"));
        assert!(is_email("a.b+c@mail.example.co.uk"));
        for bad in [
            "ada",
            "ada@",
            "@x.com",
            "ada@example",
            "a b@x.com",
            "a@b@c.com",
            "a@x..com",
            "a@-x.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn a_phone_of_a_country_is_saved_in_e164_and_checked_against_its_numbering_plan() {
        let fr = |text| phone(text, Some("FR"));
        assert_eq!(fr("06 12 34 56 78").as_deref(), Some("+33612345678"));
        assert_eq!(fr("+33 6 12 34 56 78").as_deref(), Some("+33612345678"));
        // A number of another country, written with its code, is still accepted.
        assert_eq!(fr("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(
            phone("020 7946 0958", Some("GB")).as_deref(),
            Some("+442079460958")
        );
        // Italian numbers keep their leading 0 after the country code.
        assert_eq!(
            phone("06 6982 1234", Some("IT")).as_deref(),
            Some("+390669821234")
        );
        // Too short for France, and not digits at all.
        assert_eq!(fr("06 12 34"), None);
        assert_eq!(fr("call me"), None);
    }

    #[test]
    fn phones_numbers_dates() {
        let phone = |text| phone(text, None);
        assert_eq!(phone("+33 6 12 34 56 78").as_deref(), Some("+33612345678"));
        assert_eq!(
            phone("0033 (6) 12-34-56-78").as_deref(),
            Some("+33612345678")
        );
        assert_eq!(phone("06 12 34 56 78").as_deref(), Some("0612345678"));
        assert_eq!(email("Ada.L@Example.COM"), "Ada.L@example.com");
        assert!(within(5.0, Some((1.0, 5.0))) && !within(5.5, Some((1.0, 5.0))));
        assert_eq!(phone("12345"), None);
        assert_eq!(phone("call me"), None);
        assert_eq!(number("3,5"), Some(3.5));
        assert_eq!(number("1 000"), Some(1000.0));
        assert_eq!(number("three"), None);
        assert_eq!(date("28/11/2026").as_deref(), Some("2026-11-28"));
        assert_eq!(date("2024-02-29").as_deref(), Some("2024-02-29"));
        assert_eq!(date("2023-02-29"), None);
        assert_eq!(date("31.04.2026"), None);
        assert_eq!(date("tomorrow"), None);
    }
}
