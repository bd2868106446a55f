//! The pest parser generated from `grammar/scenario.pest`, and the human phrase for every
//! rule. `rule_name` is an exhaustive match with no wildcard (the tera pattern), so adding
//! a rule to the grammar forces someone to write how an admin should read it.

use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../../grammar/scenario.pest"]
pub(crate) struct ScenarioParser;

/// How a rule is named in "expected …" messages.
#[expect(
    clippy::match_same_arms,
    reason = "one arm per rule keeps the table exhaustive and reviewable"
)]
pub(crate) fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        // Silent rules: never reported by pest, named for completeness.
        Rule::WHITESPACE | Rule::not_newline => "a space or comment",
        Rule::scenario_item => {
            "`step`, `start`, `description`, `include`, `languages`, `language from` or `escape`"
        }
        Rule::flow_item => "`step`, `start` or `description`",
        Rule::flow_decl | Rule::kw_flow => "`flow NAME(…) {`",
        Rule::flow_name | Rule::flow_ref => "a flow's name",
        Rule::params => "the flow's parameters in `( … )`",
        Rule::param => "a parameter such as `done: step`",
        Rule::param_name => "a parameter's name",
        Rule::param_kind => "`step` or `field`",
        Rule::include_decl | Rule::kw_include => "`include`",
        Rule::include_arg => "an argument such as `done: route`",
        Rule::include_alias => "the name the scenario's steps go to",
        Rule::escape_decl | Rule::kw_escape => "`escape`",
        Rule::when_opt | Rule::kw_when => "`when`",
        Rule::one_of | Rule::kw_one => "`one of`",
        Rule::kw_of => "`of`",
        Rule::range => "a range such as `1..5`",
        Rule::region => "a country such as `FR`",
        Rule::range_dots => "`..`",
        Rule::text_keyword => "a statement",
        Rule::statement => "a statement",
        Rule::ask_option => "an option of `ask`",
        Rule::jump => "`goto`, `handoff advisor` or `end`",
        Rule::prefix | Rule::primary => "a value",
        Rule::infix | Rule::postfix => "an operator",
        Rule::ident_char | Rule::word | Rule::name | Rule::keyword => "a name",
        Rule::file => "`scenario NAME {` or `flow NAME(…) {`",
        Rule::scenario | Rule::kw_scenario => "`scenario NAME {`",
        Rule::description | Rule::kw_description => "`description`",
        Rule::start_decl | Rule::kw_start => "`start`",
        Rule::step_decl | Rule::kw_step => "`step`",
        Rule::languages_decl | Rule::kw_languages => "`languages`",
        Rule::language_from | Rule::kw_language => "`language from`",
        Rule::kw_from => "`from`",
        Rule::translation => "a translation such as `en \"Hello\"`",
        Rule::language_tag => "a language such as `en` or `pt-BR`",
        Rule::block => "a block `{ … }`",
        Rule::say_stmt | Rule::kw_say => "`say`",
        Rule::ask_stmt | Rule::kw_ask => "`ask`",
        Rule::ask_block => "the options of `ask` in `{ … }`",
        Rule::expect_opt | Rule::kw_expect => "`expect`",
        Rule::save_opt | Rule::kw_save => "`save`",
        Rule::invalid_opt | Rule::kw_invalid => "`invalid`",
        Rule::attempts_opt | Rule::kw_attempts => "`attempts`",
        Rule::timeout_opt | Rule::kw_timeout => "`timeout`",
        Rule::choice_opt | Rule::kw_choice => "`choice`",
        Rule::if_stmt | Rule::kw_if => "`if`",
        Rule::else_if | Rule::else_clause | Rule::kw_else => "`else`",
        Rule::set_stmt | Rule::kw_set => "`set`",
        Rule::goto_stmt | Rule::kw_goto => "`goto`",
        Rule::route_stmt | Rule::kw_route => "`route`",
        Rule::kw_team => "`team`",
        Rule::handoff_stmt | Rule::kw_handoff => "`handoff`",
        Rule::kw_advisor => "`advisor`",
        Rule::end_stmt | Rule::kw_end => "`end`",
        Rule::call_stmt | Rule::kw_call => "`call`",
        Rule::kw_as => "`as`",
        Rule::argument => "an argument `name: value`",
        Rule::on_error => "`{ on error goto STEP }`",
        Rule::kw_on => "`on`",
        Rule::kw_error => "`error`",
        Rule::kw_then => "`then`",
        Rule::expr => "a value",
        Rule::op_not | Rule::kw_not => "`not`",
        Rule::op_or | Rule::kw_or => "`or`",
        Rule::op_and | Rule::kw_and => "`and`",
        Rule::op_eq => "`==`",
        Rule::op_ne => "`!=`",
        Rule::op_le => "`<=`",
        Rule::op_ge => "`>=`",
        Rule::op_lt => "`<`",
        Rule::op_gt => "`>`",
        Rule::op_add => "`+`",
        Rule::op_sub => "`-`",
        Rule::op_mul => "`*`",
        Rule::op_div => "`/`",
        Rule::open_test | Rule::kw_open => "`open` and a schedule",
        Rule::function_call => "a function such as `lower(…)`",
        Rule::function_name => "a function name",
        Rule::entry_decl | Rule::kw_entry => "`entry` and the steps it names",
        Rule::hook_decl => "`on close goto STEP` or `on resume goto STEP`",
        Rule::hook_event => "`close` or `resume`",
        Rule::say_one_of => "`one of` and its texts",
        Rule::variant => "a text in quotes",
        Rule::link_stmt | Rule::kw_link => "`link \"LABEL\" \"URL\"`",
        Rule::image_stmt | Rule::kw_image => "`image \"URL\" \"ALT TEXT\"`",
        Rule::card_stmt | Rule::kw_card => "`card \"TITLE\" { … }`",
        Rule::card_block => "`{` and the card's `text`, `image` and `link` lines",
        Rule::card_text | Rule::kw_text => "`text \"…\"`",
        Rule::url => "a URL in quotes",
        Rule::schedule_ref => "a schedule name",
        Rule::op_is_set | Rule::op_is_not_set | Rule::op_is_empty | Rule::op_is_not_empty => {
            "`is set` or `is empty`"
        }
        Rule::kw_is => "`is`",
        Rule::kw_empty => "`empty`",
        Rule::op_matches | Rule::kw_matches => "`matches`",
        Rule::paren => "`(`",
        Rule::list => "a list `[…]`",
        Rule::boolean | Rule::kw_true | Rule::kw_false => "`true` or `false`",
        Rule::path => "a variable or field such as `contact.email`",
        Rule::string | Rule::line_string | Rule::triple_string | Rule::quote => "a text in quotes",
        Rule::triple_quote => "`\"\"\"`",
        Rule::line_text | Rule::triple_text | Rule::line_text_char => "text",
        Rule::escape => "an escape such as `\\n` or `\\\"`",
        Rule::interp | Rule::interp_open => "`{`",
        Rule::interp_close => "`}` closing the `{…}` inside the text",
        Rule::closing_quote => "the closing `\"`",
        Rule::closing_triple_quote => "the closing `\"\"\"`",
        Rule::regex => "a regular expression `/…/`",
        Rule::regex_body => "a pattern",
        Rule::regex_flags => "regex flags",
        Rule::number => "a number",
        Rule::integer => "a whole number",
        Rule::duration => "a duration such as `15m`, `30s` or `1h30m`",
        Rule::scenario_name => "a scenario name",
        Rule::step_name => "a step name",
        Rule::step_ref => "a step name",
        Rule::var_name => "a variable name",
        Rule::field_name => "a field name",
        Rule::validator_name => {
            "a validator (`email`, `phone`, `number`, `integer`, `date`, `choice`, `text`), `one of` or `/regex/`"
        }
        Rule::action_name => "an action name such as `zendesk.create_ticket`",
        Rule::arg_name => "an argument name",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::arrow => "`->`",
        Rule::assign => "`=`",
    }
}

/// Keywords and punctuation: they shape the parse but carry nothing for the AST, so the
/// lowering cursor skips them.
pub(crate) fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_scenario
            | Rule::kw_flow
            | Rule::kw_include
            | Rule::kw_description
            | Rule::kw_start
            | Rule::kw_step
            | Rule::kw_languages
            | Rule::kw_language
            | Rule::kw_from
            | Rule::kw_say
            | Rule::kw_ask
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_set
            | Rule::kw_goto
            | Rule::kw_route
            | Rule::kw_team
            | Rule::kw_handoff
            | Rule::kw_advisor
            | Rule::kw_end
            | Rule::kw_call
            | Rule::kw_as
            | Rule::kw_on
            | Rule::kw_error
            | Rule::kw_expect
            | Rule::kw_save
            | Rule::kw_invalid
            | Rule::kw_attempts
            | Rule::kw_then
            | Rule::kw_timeout
            | Rule::kw_choice
            | Rule::kw_when
            | Rule::kw_escape
            | Rule::kw_one
            | Rule::kw_of
            | Rule::range_dots
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_is
            | Rule::kw_empty
            | Rule::kw_matches
            | Rule::kw_true
            | Rule::kw_false
            | Rule::kw_open
            | Rule::kw_entry
            | Rule::kw_link
            | Rule::kw_image
            | Rule::kw_card
            | Rule::kw_text
            | Rule::lbrace
            | Rule::rbrace
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::comma
            | Rule::colon
            | Rule::arrow
            | Rule::assign
            | Rule::quote
            | Rule::closing_quote
            | Rule::triple_quote
            | Rule::closing_triple_quote
            | Rule::interp_open
            | Rule::interp_close
            | Rule::EOI
    )
}

#[cfg(test)]
mod tests {
    use pest::Parser as _;

    use super::{Rule, ScenarioParser};

    /// The character ranges of `line_text` and of a comment's body are what they replace:
    /// `!("\"" | "\\" | "{" | "\n" | "\r") ~ ANY` and `!"\n" ~ ANY`.
    #[test]
    fn text_and_comment_ranges_take_every_character_but_their_ends() {
        let samples = (0..0x250).chain([0x2028, 0xFEFF, 0xFFFD, 0x1F600, u32::from(char::MAX)]);
        for c in samples.filter_map(char::from_u32) {
            let text = c.to_string();
            let in_text = ScenarioParser::parse(Rule::line_text, &text)
                .is_ok_and(|mut pairs| pairs.next().is_some_and(|p| p.as_str() == text));
            assert_eq!(
                in_text,
                !matches!(c, '"' | '\\' | '{' | '\n' | '\r'),
                "{c:?}"
            );
            // A comment runs to the line's end whatever it holds.
            let file = format!("scenario s {{ #{c}x\n start a step a {{ end }} }}");
            assert_eq!(
                ScenarioParser::parse(Rule::file, &file).is_ok(),
                c != '\n',
                "{c:?} in a comment"
            );
        }
    }
}
