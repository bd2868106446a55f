//! How a typed answer is compared with the texts a scenario offers (choice labels, `one of`
//! sets, `escape` words): the one normalisation the checker (duplicates) and the runtime
//! (matching) share, so what the checker calls "the same answer" is what the runtime treats
//! as the same answer.
//!
//! The rule, stated in docs/language.md ("How answers are matched"): both sides are trimmed,
//! runs of spaces become one space, letters are lower-cased, accents are removed from Latin
//! letters (`é` → `e`, `ç` → `c`, `œ` → `oe`, `ß` → `ss`), and the apostrophe and quote
//! variants (`’`, `‘`, `ʼ`, `´`, the backtick; `“ ” « »`) become `'` and `"`. Nothing else is changed:
//! "Where is my order?" and "Where's my order?" stay different answers.

/// Whether `code` is a country's two-letter ISO 3166 code that phone numbers are known for
/// (`FR`, `GB`, `US`).
pub fn is_region(code: &str) -> bool {
    code.parse::<phonenumber::country::Id>().is_ok()
}

/// A phone number as saved: E.164 (`+33612345678`). Digits with optional spaces, dots,
/// dashes, parentheses and a leading `+` (or `00`). With a `region`, a national number of
/// that country is accepted too (`06 12 34 56 78` with `FR`), and any number must be a real
/// number by the country's numbering plan (libphonenumber's data). Without one, 6 to 15
/// digits (E.164's maximum): in E.164 when it carries a country code, else kept as its
/// national digits (`0612345678`), since no country is assumed.
pub fn phone(text: &str, region: Option<&str>) -> Option<String> {
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in text.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    if !plus && digits.starts_with("00") {
        digits.drain(..2);
        plus = true;
    }
    if !(6..=15).contains(&digits.len()) {
        return None;
    }
    let Some(region) = region else {
        return Some(if plus { format!("+{digits}") } else { digits });
    };
    let country = region.parse::<phonenumber::country::Id>().ok()?;
    let written = if plus { format!("+{digits}") } else { digits };
    let number = phonenumber::parse(Some(country), written).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The form of `text` that answers are compared in.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        for lower in c.to_lowercase() {
            push_folded(lower, &mut out);
        }
    }
    out
}

/// Pushes a lower-case letter without its accent, a quote variant as its ASCII form.
fn push_folded(c: char, out: &mut String) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{00B4}' | '`' => "'",
        '\u{201C}' | '\u{201D}' | '\u{00AB}' | '\u{00BB}' => "\"",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(folded);
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn case_accents_apostrophes_and_spaces_are_folded() {
        assert_eq!(normalize("  Français "), "francais");
        assert_eq!(normalize("FRANCAIS"), normalize("français"));
        assert_eq!(normalize("Where’s   my\torder?"), "where's my order?");
        assert_eq!(normalize("Œuvre ÉTÉ Straße"), "oeuvre ete strasse");
        assert_eq!(normalize("«oui»"), "\"oui\"");
        assert_ne!(
            normalize("Where is my order?"),
            normalize("Where's my order?")
        );
        assert_eq!(normalize("日本"), "日本");
    }
}
