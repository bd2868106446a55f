//! The registry of diagnostic codes. A code's id and name are stable: they appear in CI
//! logs, SARIF results and `--explain`, so a code is never renamed or reused. Phases:
//! `P0xx` syntax, `C1xx` semantic errors, `L2xx` lint warnings, `W4xx` workspace config.
//! Each code's long documentation lives in `docs/codes/<ID>.md` (what it catches, why it
//! matters, a failing example and the fix); `scenarist lint --explain ID` prints it.

use super::Severity;

macro_rules! codes {
    ($($variant:ident = ($id:literal, $name:literal, $severity:ident, $summary:literal);)*) => {
        /// One kind of finding.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable id, e.g. `C101`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }

            /// The stable kebab-case name, e.g. `unknown-step`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// One sentence: what the code reports.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// The long documentation (`docs/codes/<ID>.md`).
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$variant => include_str!(concat!("../../../../docs/codes/", $id, ".md")),)* }
            }
        }
    };
}

codes! {
    SyntaxError = ("P001", "syntax-error", Error, "The text does not follow the scenario grammar.");
    UnterminatedString = ("P002", "unterminated-string", Error, "A string is not closed before the end of its line or of the file.");
    NestingTooDeep = ("P003", "nesting-too-deep", Error, "Blocks, parentheses or lists are nested deeper than the language allows.");
    NotUtf8 = ("P004", "not-utf8", Error, "The file is not UTF-8 text.");
    FileTooLarge = ("P005", "file-too-large", Error, "The file is larger than the largest scenario the tools accept.");
    InvalidLiteral = ("P006", "invalid-literal", Error, "A number, duration or escape sequence is out of range.");

    UnknownStep = ("C101", "unknown-step", Error, "A `goto`, `start` or choice names a step that does not exist.");
    DuplicateStep = ("C102", "duplicate-step", Error, "Two steps have the same name.");
    MissingStart = ("C103", "missing-start", Error, "The scenario does not say which step it starts with.");
    UnknownAction = ("C104", "unknown-action", Error, "A `call` names an action that is not in the registry.");
    MissingArgument = ("C105", "missing-argument", Error, "A `call` leaves out an argument the action requires.");
    UnknownArgument = ("C106", "unknown-argument", Error, "A `call` passes an argument the action does not take.");
    MistypedArgument = ("C107", "mistyped-argument", Error, "A `call` passes a value of the wrong type for an argument.");
    UnknownField = ("C108", "unknown-field", Error, "A contact field or result field that does not exist is read or saved.");
    UnknownVariable = ("C109", "unknown-variable", Error, "A variable is read but never set anywhere in the scenario.");
    PossiblyUnsetVariable = ("C110", "possibly-unset-variable", Error, "A variable is read on a path where it may not have been set yet.");
    ValidatorTypeMismatch = ("C111", "validator-type-mismatch", Error, "An answer is saved into a field whose type its validator does not produce.");
    InvalidRegex = ("C112", "invalid-regex", Error, "A regular expression does not compile.");
    FallsOffEnd = ("C113", "falls-off-end", Error, "A step can reach its end without `goto`, `handoff advisor` or `end`.");
    InputFreeCycle = ("C114", "input-free-cycle", Error, "Steps loop into each other without ever waiting for the contact.");
    UnknownTeam = ("C115", "unknown-team", Error, "`route team` names a team the workspace config does not declare.");
    MissingOnError = ("C116", "missing-on-error", Error, "A fallible action is called without saying where to go when it fails.");
    DuplicateDeclaration = ("C117", "duplicate-declaration", Error, "A declaration, option or argument that may appear once appears twice.");
    UnknownValidator = ("C118", "unknown-validator", Error, "`expect` names a validator that does not exist.");
    ReadOnlyTarget = ("C119", "read-only-target", Error, "A value the runtime owns is saved or set by the scenario.");
    ConflictingAskOptions = ("C120", "conflicting-ask-options", Error, "The options of an `ask` contradict each other.");
    UnknownAccount = ("C122", "unknown-account", Error, "A condition names a channel account or channel the workspace config does not declare.");
    TypeMismatch = ("C121", "type-mismatch", Error, "An operator or statement is given a value of a type it cannot use.");
    UnknownFunction = ("C123", "unknown-function", Error, "An expression calls a function that does not exist.");
    UnknownSchedule = ("C124", "unknown-schedule", Error, "`open` or `next_open` names a schedule the workspace config does not declare.");
    FunctionArguments = ("C125", "function-arguments", Error, "A function is given too many or too few arguments, or a value where it takes a schedule's name.");
    InvalidValue = ("C126", "invalid-value", Error, "A field is set to a value it does not accept, such as a ticket priority Zendesk does not know.");
    UnknownFlow = ("C127", "unknown-flow", Error, "An `include` names a flow that no file of the scenarios folder declares.");
    UnknownFlowParameter = ("C128", "unknown-flow-parameter", Error, "An `include` gives a value to a parameter the flow does not have.");
    MissingFlowArgument = ("C129", "missing-flow-argument", Error, "An `include` leaves out a parameter of the flow.");
    ParameterKindMismatch = ("C130", "parameter-kind-mismatch", Error, "A step parameter is used or given as a field, or a field parameter as a step.");
    FlowFailsHere = ("C131", "flow-fails-here", Error, "An included flow has errors in the context of the scenario that includes it.");
    InvalidRegion = ("C132", "invalid-region", Error, "`expect phone` names a country that does not exist, or another validator is given a country.");
    MissingTranslation = ("C135", "missing-translation", Error, "A text is not written in every language the scenario declares.");
    UndeclaredLanguage = ("C136", "undeclared-language", Error, "A text is translated into a language the scenario does not declare.");
    PlaceholderMismatch = ("C137", "placeholder-mismatch", Error, "A placeholder `{…}` is in one language's text and not in another's.");
    InvalidRange = ("C140", "invalid-range", Error, "A range of `expect` is inverted, holds no whole number for `integer`, or follows a validator that is not `number` or `integer`.");
    DuplicateChoiceValue = ("C141", "duplicate-choice-value", Error, "Two choices of one `ask` save the same value, or `one of` or `escape` lists the same answer twice.");
    ComputedAnswer = ("C142", "computed-answer", Error, "A choice's value, a `one of` answer or an `escape` word holds a `{…}` value; answers are compared with texts written out.");
    InvalidLanguageSource = ("C138", "invalid-language-source", Error, "`language from` names something other than a declared text field of the contact.");
    UnsupportedRichMessage = ("C147", "unsupported-rich-message", Error, "An image or a card is sent on a channel that cannot show it.");
    InvalidUrl = ("C148", "invalid-url", Error, "The URL of a link or an image is not an http:// or https:// address.");

    UnreachableStep = ("L201", "unreachable-step", Warning, "No path from the start step leads to this step.");
    AskWithoutAttempts = ("L202", "ask-without-attempts", Warning, "An `ask` with a validator has no `attempts ... then` bound.");
    AskWithoutTimeout = ("L203", "ask-without-timeout", Warning, "An `ask` has no `timeout ... then`, so a silent contact waits forever.");
    UnusedVariable = ("L204", "unused-variable", Warning, "A variable is set but never read.");
    MessageTooLong = ("L205", "message-too-long", Warning, "A message is longer than a channel of the workspace accepts.");
    SyncTeamNeverRouted = ("L206", "sync-team-never-routed", Warning, "A scenario on a mode-B account never routes to the sync team, so no ticket is ever created.");
    EmailFieldNeverFilled = ("L207", "email-field-never-filled", Warning, "A scenario on a mode-B account never fills the email field the ticket sync needs.");
    UnreachableStatement = ("L208", "unreachable-statement", Warning, "A statement follows a `goto`, `handoff advisor` or `end` and never runs.");
    TooManyChoices = ("L210", "too-many-choices", Warning, "A question offers more choices than a channel it runs on can show.");
    DuplicateChoice = ("L209", "duplicate-choice", Warning, "Two choices of one `ask` have the same text; the second can never be picked.");
    ShadowedPattern = ("L220", "shadowed-pattern", Warning, "A `when` pattern of an `ask` can never be chosen: an earlier one is the same or matches every answer.");
    EscapeHidesAnswer = ("L221", "escape-hides-answer", Warning, "A choice or `one of` answer is also an `escape` word, so it can never be picked.");
    LanguageNeverChosen = ("L215", "language-never-chosen", Warning, "The scenario declares several languages but never says where a conversation's language comes from.");
    UnusedFlow = ("L216", "unused-flow", Warning, "A flow of the scenarios folder is included by no scenario.");
    UnusedParameter = ("L217", "unused-parameter", Warning, "A parameter of a flow is never used in its steps.");
    DuplicateVariant = ("L224", "duplicate-variant", Warning, "Two variants of `say one of` are the same text, so one is shown more often.");

    Internal = ("I001", "internal-error", Error, "Scenarist itself failed on this input; this is a bug to report.");

    ConfigSyntax = ("W401", "config-syntax", Error, "The workspace config is not valid YAML or does not have the expected shape.");
    ConfigInvalid = ("W402", "config-invalid", Error, "The workspace config is well-formed but contradicts itself.");
    ScheduleInvalid = ("W404", "schedule-invalid", Error, "A schedule of the workspace config has an unknown time zone, a malformed, inverted or overlapping range, or a date that does not exist.");
    RetentionInvalid = ("W405", "retention-invalid", Error, "A `retention` value of the workspace config is neither a duration nor `forever`.");
    RetentionShort = ("W406", "retention-short", Warning, "The workspace config keeps `seen` entries for less time than channels may take to deliver a message again.");
    StoreInvalid = ("W407", "store-invalid", Error, "The `store` of the workspace config names a storage engine Scenarist does not have, or a page cache size out of range.");
    ConfigPath = ("W403", "config-path", Error, "A path in the workspace config leads outside the config's folder, or `scenarios` names a file that is not a scenario.");
    ApiUrl = ("W410", "api-url", Error, "The base URL of a declared API is not a fixed https:// origin (with an optional path prefix).");
    ApiPath = ("W411", "api-path", Error, "The path of a declared HTTP action is malformed or names a parameter it does not declare.");
    ApiParam = ("W412", "api-param", Error, "A parameter of a declared HTTP action is sent nowhere, twice, or in a body its method does not have.");
    ApiPointer = ("W413", "api-pointer", Error, "A result field of a declared HTTP action has a JSON pointer that is not valid.");
    ApiInvalid = ("W414", "api-invalid", Error, "A declared API or HTTP action has a name, limit or authentication that cannot be used.");
}

impl Code {
    /// Finds a code by id (`C101`, case-insensitive) or name (`unknown-step`).
    pub fn lookup(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.id().eq_ignore_ascii_case(text) || code.name() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use std::collections::HashSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for code in Code::ALL {
            assert!(ids.insert(code.id()), "duplicate id {}", code.id());
            assert!(names.insert(code.name()), "duplicate name {}", code.name());
            assert!(
                code.explanation().starts_with(&format!("# {} ", code.id())),
                "{}",
                code.id()
            );
        }
    }

    #[test]
    fn lookup_by_id_or_name() {
        assert_eq!(Code::lookup("c101"), Some(Code::UnknownStep));
        assert_eq!(Code::lookup("unknown-step"), Some(Code::UnknownStep));
        assert_eq!(Code::lookup("X999"), None);
    }
}
