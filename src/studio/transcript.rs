//! A studio conversation as a transcript test (`*.test.yaml`, the format of
//! `harness::transcript`). Each thing that happened becomes an entry with what followed it —
//! the bot's messages in the harness's own form (`harness::Runner::bot_messages`: choices
//! `Text [A | B]`, rich parts `transcript_form`), the status and the team — so the file
//! passes `scenarist test` as long as the scenario behaves the same. The clock of a studio
//! chat moves only when asked (`wait`), like a transcript's, and starts at the test's `at`.

use serde::Serialize;

/// What the admin did, as a transcript entry names it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Action {
    Contact(String),
    Wait(String),
    Advisor(String),
    Route(String),
    /// `true` for the start, or a step name.
    ReturnToBot(serde_json::Value),
    Close(bool),
}

/// One entry: the action and what followed.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Entry {
    #[serde(flatten)]
    pub(super) action: Action,
    pub(super) bot: Vec<String>,
    pub(super) status: String,
    /// Written even when `null`: "no team" is expected too.
    pub(super) team: serde_json::Value,
}

/// A mocked action: what the real one gave in the studio.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct Mock {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

#[derive(Debug, Serialize)]
struct TestFile<'a> {
    scenario: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<&'a str>,
    account: &'a str,
    tests: [TestCase<'a>; 1],
}

#[derive(Debug, Serialize)]
struct TestCase<'a> {
    name: &'a str,
    at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    contact: Contact<'a>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    actions: &'a std::collections::BTreeMap<String, Mock>,
    transcript: &'a [Entry],
}

#[derive(Debug, Serialize)]
struct Contact<'a> {
    name: &'a str,
}

/// What the file says.
pub(super) struct Recording<'a> {
    /// The scenario, relative to the test file.
    pub(super) scenario: &'a str,
    /// The config, relative to the test file (`None`: the built-in one).
    pub(super) config: Option<&'a str>,
    pub(super) account: &'a str,
    pub(super) name: &'a str,
    /// When the conversation started, RFC 3339.
    pub(super) at: &'a str,
    pub(super) language: Option<&'a str>,
    pub(super) contact: &'a str,
    pub(super) actions: &'a std::collections::BTreeMap<String, Mock>,
    pub(super) entries: &'a [Entry],
}

/// The test file's text.
pub(super) fn render(recording: &Recording<'_>) -> Result<String, serde_yaml::Error> {
    let file = TestFile {
        scenario: recording.scenario,
        config: recording.config,
        account: recording.account,
        tests: [TestCase {
            name: recording.name,
            at: recording.at,
            language: recording.language,
            contact: Contact {
                name: recording.contact,
            },
            actions: recording.actions,
            transcript: recording.entries,
        }],
    };
    let body = serde_yaml::to_string(&file)?;
    Ok(format!(
        "# A conversation recorded in `scenarist studio`; run it with `scenarist test`.\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_as_a_transcript_test() {
        let entries = [
            Entry {
                action: Action::Contact("Hi: there".into()),
                bot: vec!["Hello!\n  indented".into(), "Pick [A | B]".into()],
                status: "waiting".into(),
                team: serde_json::Value::Null,
            },
            Entry {
                action: Action::ReturnToBot(serde_json::Value::Bool(true)),
                bot: vec![],
                status: "waiting".into(),
                team: "Zendesk".into(),
            },
        ];
        let text = render(&Recording {
            scenario: "faq.scn",
            config: Some("scenarist.yaml"),
            account: "facebook:acme",
            name: "from the studio",
            at: "2026-01-05T09:00:00Z",
            language: Some("fr"),
            contact: "Ada Lovelace",
            actions: &std::collections::BTreeMap::new(),
            entries: &entries,
        })
        .unwrap();
        let file: crate::harness::transcript::TestFile = serde_yaml::from_str(&text).unwrap();
        let case = &file.tests[0];
        assert_eq!(case.language.as_deref(), Some("fr"));
        assert_eq!(case.transcript[0].contact.as_deref(), Some("Hi: there"));
        assert_eq!(
            case.transcript[0].bot.as_deref(),
            Some(&["Hello!\n  indented".to_owned(), "Pick [A | B]".to_owned()][..])
        );
        assert_eq!(case.transcript[0].team, Some(serde_json::Value::Null));
        assert_eq!(
            case.transcript[1].return_to_bot,
            Some(serde_json::Value::Bool(true))
        );
    }
}
