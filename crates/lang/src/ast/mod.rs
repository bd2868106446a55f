//! The typed syntax tree of a scenario. Built by `syntax`, read by `check`, `fmt`, `graph`
//! and the runtime. It owns its data (no pest types, no borrowed source) so services can
//! cache it, and every node carries the `Span` it came from.
//!
//! A successful parse is not yet a valid scenario: names are not resolved here, that is
//! the checker's job (`check/`).

mod visit;

pub use visit::{
    Visit, VisitMut, erase_flow_spans, erase_spans, walk_block, walk_expr, walk_expr_mut,
    walk_items_mut, walk_message, walk_step_mut, walk_stmt, walk_stmt_mut, walk_text,
};

use crate::source::Span;

/// A whole `.scn` file: `scenario NAME { items }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: Name,
    pub items: Vec<Item>,
    pub span: Span,
}

/// A moment of a conversation's life a scenario can answer (`on close goto survey`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hook {
    /// An advisor closes the conversation.
    Close,
    /// The contact writes again after the conversation ended.
    Resume,
}

impl Hook {
    pub const ALL: [Hook; 2] = [Hook::Close, Hook::Resume];

    pub fn word(self) -> &'static str {
        match self {
            Hook::Close => "close",
            Hook::Resume => "resume",
        }
    }
}

impl Scenario {
    /// The steps `entry` declares (the start step is an entry point too, see
    /// [`Scenario::entry_points`]).
    pub fn entries(&self) -> impl Iterator<Item = &Name> {
        self.items.iter().flat_map(|item| match &item.kind {
            ItemKind::Entry(names) => names.as_slice(),
            _ => &[],
        })
    }

    /// Where a conversation may begin running besides the start: the `entry` steps, then the
    /// hooks' steps.
    pub fn other_beginnings(&self) -> impl Iterator<Item = &Name> {
        self.entries()
            .chain(Hook::ALL.iter().filter_map(|hook| self.hook(*hook)))
    }

    /// The step a hook goes to, if the scenario declares it.
    pub fn hook(&self, event: Hook) -> Option<&Name> {
        self.items.iter().find_map(|item| match &item.kind {
            ItemKind::Hook { event: e, step } if *e == event => Some(step),
            _ => None,
        })
    }

    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        steps_of(&self.items)
    }

    /// The first `start` declaration.
    pub fn start(&self) -> Option<&Name> {
        start_of(&self.items)
    }

    /// The `include` declarations.
    pub fn includes(&self) -> impl Iterator<Item = (&Include, Span)> {
        self.items.iter().filter_map(|item| match &item.kind {
            ItemKind::Include(include) => Some((include, item.span)),
            _ => None,
        })
    }

    /// The first `description`.
    pub fn description(&self) -> Option<&Text> {
        self.items.iter().find_map(|item| match &item.kind {
            ItemKind::Description(text) => Some(text),
            _ => None,
        })
    }

    /// The languages of the first `languages` declaration, the default first; empty when
    /// the scenario declares none (it then speaks only the language its texts are written in).
    /// The first `escape` declaration.
    pub fn escape(&self) -> Option<&Escape> {
        self.items.iter().find_map(|item| match &item.kind {
            ItemKind::Escape(escape) => Some(escape),
            _ => None,
        })
    }

    pub fn languages(&self) -> &[Name] {
        self.items
            .iter()
            .find_map(|item| match &item.kind {
                ItemKind::Languages(languages) => Some(languages.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The contact field of the first `language from`.
    pub fn language_from(&self) -> Option<&Path> {
        self.items.iter().find_map(|item| match &item.kind {
            ItemKind::LanguageFrom(path) => Some(path),
            _ => None,
        })
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps().find(|step| step.name.text == name)
    }

    /// Calls `f` on every statement of every step, those inside `if` blocks included, in
    /// source order.
    pub fn for_each_statement<'a>(&'a self, f: &mut impl FnMut(&'a Stmt)) {
        for step in self.steps() {
            for_each_in(&step.body.statements, f);
        }
    }
}

/// The steps among the items of a scenario or a flow.
fn steps_of(items: &[Item]) -> impl Iterator<Item = &Step> {
    items.iter().filter_map(|item| match &item.kind {
        ItemKind::Step(step) => Some(step),
        _ => None,
    })
}

/// The first `start` among the items of a scenario or a flow.
fn start_of(items: &[Item]) -> Option<&Name> {
    items.iter().find_map(|item| match &item.kind {
        ItemKind::Start(name) => Some(name),
        _ => None,
    })
}

/// Calls `f` on each statement and, after an `if`, on the statements of its blocks.
pub fn for_each_in<'a>(statements: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for stmt in statements {
        f(stmt);
        if let StmtKind::If(if_stmt) = &stmt.kind {
            for branch in &if_stmt.branches {
                for_each_in(&branch.body.statements, f);
            }
            if let Some(block) = &if_stmt.otherwise {
                for_each_in(&block.statements, f);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `description "…"`
    Description(Text),
    /// `start welcome`
    Start(Name),
    /// `entry survey, feedback`: where advisors' tools may hand the conversation back.
    Entry(Vec<Name>),
    /// `on close goto survey`
    Hook { event: Hook, step: Name },
    /// `languages fr, en`: the first is the default.
    Languages(Vec<Name>),
    /// `language from contact.language`
    LanguageFrom(Path),
    /// `step welcome { … }`
    Step(Step),
    /// `escape "agent", "human" -> handoff advisor`: words that leave any question.
    Escape(Escape),
    /// `include email_capture(save_to: contact.email, done: route) as capture`
    Include(Include),
}

/// `flow email_capture(save_to: field, done: step) { start ask step ask { … } }`: steps
/// written once and included by several scenarios. Its items are `description`, `start`
/// and `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    pub name: Name,
    pub params: Vec<Param>,
    /// `( … )`, the parameters with their parentheses.
    pub params_span: Span,
    pub items: Vec<Item>,
    pub span: Span,
}

impl Flow {
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        steps_of(&self.items)
    }

    /// The first `start` declaration.
    pub fn start(&self) -> Option<&Name> {
        start_of(&self.items)
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|param| param.name.text == name)
    }
}

/// `done: step`: a name the including scenario gives a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Name,
    pub kind: ParamKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A step of the including scenario (`goto done`).
    Step,
    /// A contact field or a variable (`save save_to`, `{save_to}`).
    Field,
}

impl ParamKind {
    pub fn word(self) -> &'static str {
        match self {
            ParamKind::Step => "step",
            ParamKind::Field => "field",
        }
    }
}

/// `include email_capture(save_to: contact.email, done: route) as capture`
#[derive(Clone, Debug, PartialEq)]
pub struct Include {
    pub flow: Name,
    pub args: Vec<IncludeArg>,
    pub alias: Option<Name>,
}

impl Include {
    /// The name the scenario's steps go to: the alias, else the flow's name.
    pub fn name(&self) -> &Name {
        self.alias.as_ref().unwrap_or(&self.flow)
    }
}

/// `done: route` in an `include`.
#[derive(Clone, Debug, PartialEq)]
pub struct IncludeArg {
    pub name: Name,
    pub value: Path,
    pub span: Span,
}

/// `escape "agent", "conseiller" -> handoff advisor` (or `-> STEP`): an answer that is one
/// of the words (normalised as choice labels are) leaves the question for the target.
#[derive(Clone, Debug, PartialEq)]
pub struct Escape {
    pub words: Vec<Text>,
    /// `Goto(step)` or `Handoff`.
    pub target: Jump,
}

/// An identifier with its span: a step, variable, field, action or argument name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub name: Name,
    pub body: Block,
    pub span: Span,
}

/// `{ statements }`; the span includes the braces.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub statements: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `say "…" en "…"`
    Say(Message),
    /// `say one of "Hello!", "Hi there!"`: one variant, chosen per conversation.
    SayOneOf(Vec<Message>),
    /// `link …`, `image …`, `card … { … }`: a rich message.
    Rich(Rich),
    /// `ask "…" { options }`
    Ask(Ask),
    /// `if c { } else if c { } else { }`
    If(If),
    /// `set name = value`
    Set { name: Name, value: Expr },
    /// `set contact.language = value`, `set ticket.priority = value`: a field of a record
    /// the conversation writes (the root is `contact` or `ticket`; the checker says which
    /// fields).
    SetField { target: Path, value: Expr },
    /// `goto step`
    Goto(Name),
    /// `route team "Zendesk"`
    RouteTeam(Text),
    /// `handoff advisor`
    Handoff,
    /// `end`
    End,
    /// `call action(args) as result { on error goto step }`
    Call(Call),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ask {
    pub prompt: Message,
    /// The options in source order (the formatter keeps it).
    pub options: Vec<AskOption>,
}

impl Ask {
    pub fn validator(&self) -> Option<&Validator> {
        self.options.iter().find_map(|o| match &o.kind {
            AskOptionKind::Expect(v) => Some(v),
            _ => None,
        })
    }

    pub fn save(&self) -> Option<&Path> {
        self.options.iter().find_map(|o| match &o.kind {
            AskOptionKind::Save(p) => Some(p),
            _ => None,
        })
    }

    pub fn invalid(&self) -> Option<&Message> {
        self.options.iter().find_map(|o| match &o.kind {
            AskOptionKind::Invalid(t) => Some(t),
            _ => None,
        })
    }

    pub fn attempts(&self) -> Option<(&Count, &Jump)> {
        self.options.iter().find_map(|o| match &o.kind {
            AskOptionKind::Attempts { count, then } => Some((count, then)),
            _ => None,
        })
    }

    pub fn timeout(&self) -> Option<(&Duration, &Jump)> {
        self.options.iter().find_map(|o| match &o.kind {
            AskOptionKind::Timeout { duration, then } => Some((duration, then)),
            _ => None,
        })
    }

    pub fn choices(&self) -> impl Iterator<Item = (&Message, Option<&Name>)> {
        self.options.iter().filter_map(|o| match &o.kind {
            AskOptionKind::Choice { label, target, .. } => Some((label, target.as_ref())),
            _ => None,
        })
    }

    /// The `= "value"` of each choice that has one.
    pub fn choice_values(&self) -> impl Iterator<Item = &Text> {
        self.options.iter().filter_map(|o| match &o.kind {
            AskOptionKind::Choice { value, .. } => value.as_ref(),
            _ => None,
        })
    }

    /// The `when /re/ -> step` options, in order.
    pub fn patterns(&self) -> impl Iterator<Item = (&RegexLit, &Name)> {
        self.options.iter().filter_map(|o| match &o.kind {
            AskOptionKind::When { regex, target } => Some((regex, target)),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AskOption {
    pub kind: AskOptionKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AskOptionKind {
    /// `expect email`
    Expect(Validator),
    /// `save contact.email`
    Save(Path),
    /// `invalid "…" en "…"`
    Invalid(Message),
    /// `attempts 3 then goto route`
    Attempts { count: Count, then: Jump },
    /// `timeout 15m then goto route`
    Timeout { duration: Duration, then: Jump },
    /// `choice "Commandes" en "Orders" = "orders" -> orders`
    Choice {
        label: Message,
        /// What `save` and `answer` hold; the label in the default language without it.
        value: Option<Text>,
        target: Option<Name>,
    },
    /// `when /refund|return/i -> returns`: a free answer matching goes to the step.
    When { regex: RegexLit, target: Name },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Validator {
    /// `email`, `phone`, `number`, `date`, `choice`, `text` (checked by `check/`).
    Named(Name),
    /// `/^[0-9]{6}$/`
    Regex(RegexLit),
    /// `number 1..5`, `integer 0..10`: a named validator and the bounds its value must fit.
    Ranged(Name, Range),
    /// `one of "yes", "no"`: one of the texts, normalised as choice labels are.
    OneOf(Vec<Text>),
    /// `phone FR`: a named validator and the country (ISO 3166 code) whose national numbers
    /// it accepts.
    Regional(Name, Name),
}

impl Validator {
    /// The validator's name, with or without a range.
    pub fn name(&self) -> Option<&Name> {
        match self {
            Validator::Named(name) | Validator::Ranged(name, _) | Validator::Regional(name, _) => {
                Some(name)
            }
            Validator::Regex(_) | Validator::OneOf(_) => None,
        }
    }
}

/// `1..5`: both bounds included.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub low: Number,
    pub high: Number,
    pub span: Span,
}

/// A whole number written in the source, e.g. the `3` of `attempts 3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Count {
    pub value: u32,
    pub span: Span,
}

/// Where control goes: the target of `then`, `on error` and plain statements.
#[derive(Clone, Debug, PartialEq)]
pub struct Jump {
    pub kind: JumpKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JumpKind {
    Goto(Name),
    Handoff,
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub struct If {
    /// `if` and every `else if`, in order.
    pub branches: Vec<Branch>,
    pub otherwise: Option<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    pub condition: Expr,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Dotted, e.g. `zendesk.create_ticket`.
    pub action: Name,
    pub arguments: Vec<Argument>,
    /// The `as NAME` binding of the result.
    pub result: Option<Name>,
    pub on_error: Option<Jump>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    pub name: Name,
    pub value: Expr,
    pub span: Span,
}

/// A text the bot sends (`say`, `ask`, `invalid`, `choice`): written in the default
/// language, then once in each other language of the scenario (`say "Bonjour" en "Hello"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The text in the default language (the only one of a scenario without `languages`).
    pub text: Text,
    /// The other languages' texts, in source order.
    pub translations: Vec<Translation>,
}

impl Message {
    /// The text in `language`, if written.
    pub fn translation(&self, language: &str) -> Option<&Text> {
        self.translations
            .iter()
            .find(|t| t.language.text == language)
            .map(|t| &t.text)
    }

    /// Every text: the default's, then the translations'.
    pub fn texts(&self) -> impl Iterator<Item = &Text> {
        std::iter::once(&self.text).chain(self.translations.iter().map(|t| &t.text))
    }

    /// Where the message's code ends: its last text.
    pub fn end(&self) -> u32 {
        self.translations
            .last()
            .map_or(self.text.span.end, |t| t.text.span.end)
    }
}

/// A message with more than text: channels show it as a button, a picture or a card, and
/// the API gives its plain-text fallback to clients that show only text.
#[derive(Clone, Debug, PartialEq)]
pub enum Rich {
    Link(Link),
    Image(Image),
    /// Boxed: a card is twice the size of any other statement, and every statement takes
    /// the size of the largest kind (280 bytes with the card inline, 144 boxed).
    Card(Box<Card>),
}

/// `link "Track it" "https://acme.example/t/{contact.order_number}"`
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub label: Message,
    pub url: Text,
    pub span: Span,
}

/// `image "https://acme.example/map.png" "Map of the shop"`
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub url: Text,
    pub alt: Message,
    pub span: Span,
}

/// `card "Your order" { text "…" image "…" "…" link "…" "…" }`
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub title: Message,
    pub text: Option<Message>,
    pub image: Option<Image>,
    pub links: Vec<Link>,
    /// The `{ … }` of the card.
    pub body: Span,
}

impl Rich {
    /// Every translatable text (labels, alt texts, titles), in source order.
    pub fn messages(&self) -> Vec<&Message> {
        match self {
            Rich::Link(link) => vec![&link.label],
            Rich::Image(image) => vec![&image.alt],
            Rich::Card(card) => {
                let mut out = vec![&card.title];
                out.extend(&card.text);
                out.extend(card.image.iter().map(|i| &i.alt));
                out.extend(card.links.iter().map(|l| &l.label));
                out
            }
        }
    }

    /// Every URL, in source order.
    pub fn urls(&self) -> Vec<&Text> {
        match self {
            Rich::Link(link) => vec![&link.url],
            Rich::Image(image) => vec![&image.url],
            Rich::Card(card) => card
                .image
                .iter()
                .map(|i| &i.url)
                .chain(card.links.iter().map(|l| &l.url))
                .collect(),
        }
    }

    /// The links (buttons), in source order.
    pub fn links(&self) -> Vec<&Link> {
        match self {
            Rich::Link(link) => vec![link],
            Rich::Image(_) => Vec::new(),
            Rich::Card(card) => card.links.iter().collect(),
        }
    }

    /// `link`, `image` or `card`: the word that writes it, and the channel capability it needs.
    pub fn word(&self) -> &'static str {
        match self {
            Rich::Link(_) => "link",
            Rich::Image(_) => "image",
            Rich::Card(_) => "card",
        }
    }
}

/// `en "Hello"`: a message's text in another language.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    /// `en`, `pt-BR`.
    pub language: Name,
    pub text: Text,
    pub span: Span,
}

/// A text literal with `{…}` interpolations.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub parts: Vec<TextPart>,
    pub quotes: Quotes,
    pub span: Span,
}

impl Text {
    /// The text when it has no interpolation, e.g. a team name.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TextPart::Literal(text) => out.push_str(text),
                TextPart::Interpolation(_) => return None,
            }
        }
        Some(out)
    }

    pub fn interpolations(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            TextPart::Interpolation(e) => Some(e),
            TextPart::Literal(_) => None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quotes {
    /// `"…"`
    Line,
    /// `"""…"""`
    Triple,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TextPart {
    /// Decoded text (escapes resolved, multi-line indentation removed).
    Literal(String),
    Interpolation(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Text(Text),
    Number(Number),
    Bool(bool),
    List(Vec<Expr>),
    Path(Path),
    /// `( expr )`, kept so the formatter prints what the author wrote.
    Paren(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x is set`, `x is not empty`, …
    Test {
        op: TestOp,
        operand: Box<Expr>,
    },
    /// `x matches /re/`
    Matches {
        operand: Box<Expr>,
        /// Boxed: a regex (64 bytes) would make every expression, and every text's part, as
        /// large as itself.
        regex: Box<RegexLit>,
    },
    /// `lower(x)`, `next_open(support)`: a built-in function (`builtins::functions`).
    Call {
        function: Name,
        args: Vec<Expr>,
    },
    /// `open support`: whether a schedule of the workspace config is open now.
    Open(Name),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TestOp {
    IsSet,
    IsNotSet,
    IsEmpty,
    IsNotEmpty,
}

impl TestOp {
    pub fn words(self) -> &'static str {
        match self {
            TestOp::IsSet => "is set",
            TestOp::IsNotSet => "is not set",
            TestOp::IsEmpty => "is empty",
            TestOp::IsNotEmpty => "is not empty",
        }
    }
}

/// A number literal; `text` is what the author wrote, printed back unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub value: f64,
}

/// `contact.email`, `ticket.id`, `topic`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Name>,
    pub span: Span,
}

impl Path {
    pub fn root(&self) -> &str {
        self.segments.first().map_or("", |n| n.text.as_str())
    }

    /// `contact.email` as one string.
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|n| n.text.as_str()).collect();
        names.join(".")
    }
}

/// `15m`, `1h30m`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration {
    pub text: String,
    pub seconds: u64,
    pub span: Span,
}

/// `/pattern/flags`; `pattern_span` covers the pattern only (for regex errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexLit {
    pub pattern: String,
    pub flags: String,
    pub span: Span,
    pub pattern_span: Span,
}
