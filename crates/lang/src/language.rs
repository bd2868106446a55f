//! Which of a scenario's languages a conversation is in, from the value of its `language from`
//! field: read by the runtime (and `conversation.language`), documented for admins in
//! docs/language.md#languages.

/// The declared language `value` names: the same tag ignoring case (`EN` is `en`), else the
/// tag's primary language (`fr-CA` is `fr` when only `fr` is declared). `None` when `value`
/// names none of them: the conversation then speaks the default.
pub fn resolve<'a, S: AsRef<str>>(declared: &'a [S], value: &str) -> Option<&'a str> {
    let value = value.trim();
    let find = |wanted: &str| {
        declared
            .iter()
            .map(AsRef::as_ref)
            .find(|tag| tag.eq_ignore_ascii_case(wanted))
    };
    find(value).or_else(|| find(value.split(['-', '_']).next().unwrap_or(value)))
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn a_value_names_a_declared_language_by_tag_or_primary_language() {
        let declared = ["fr", "en", "pt-BR"];
        assert_eq!(resolve(&declared, "en"), Some("en"));
        assert_eq!(resolve(&declared, " EN "), Some("en"));
        assert_eq!(resolve(&declared, "fr-CA"), Some("fr"));
        assert_eq!(resolve(&declared, "fr_FR"), Some("fr"));
        assert_eq!(resolve(&declared, "pt-br"), Some("pt-BR"));
        assert_eq!(resolve(&declared, "de"), None);
        assert_eq!(resolve(&declared, ""), None);
    }
}
