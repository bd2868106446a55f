'use strict';
// Hand-written snippets of each construct and the scopes their parts must get: a table, one
// test per row. In `expect`, each [text, scope] finds `text` after the previous one found (or,
// when the previous entry has the same text, looks at that same place again) and requires every
// character of it to carry `scope`; a scope written `!prefix` requires that no scope of those
// characters starts with `prefix`.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { loadGrammar, tokenize, scopesAt, MAY_SPAN_LINES } = require('./support/textmate');

const STEP = 'entity.name.function.step.scn';
const TEXT = 'string.quoted.double.scn';
const OPEN = 'punctuation.section.interpolation.begin.scn';
const CLOSE = 'punctuation.section.interpolation.end.scn';
const EMBEDDED = 'meta.embedded.line.scn';
const TAG = 'constant.other.language.scn';

const CASES = [
  {
    name: 'comments, whole-line and after code, but not inside a text',
    source: '# a comment\ngoto next # why\nsay "not # a comment"',
    expect: [
      ['#', 'punctuation.definition.comment.scn'],
      ['a comment', 'comment.line.number-sign.scn'],
      ['next', STEP],
      ['# why', 'comment.line.number-sign.scn'],
      ['not # a comment', TEXT],
      ['not # a comment', '!comment'],
    ],
  },
  {
    name: 'a scenario and its declarations',
    source: [
      'scenario demo {',
      '  description "Collect the email"',
      '  start welcome',
      '  entry ask_email, survey',
      '  on close goto rate',
      '  on resume goto welcome_back',
      '  languages fr, en, pt-BR',
      '  language from contact.language',
      '  escape "agent", "human" -> handoff advisor',
      '}',
    ].join('\n'),
    expect: [
      ['scenario', 'storage.type.scenario.scn'],
      ['demo', 'entity.name.type.scenario.scn'],
      ['{', 'punctuation.section.block.begin.scn'],
      ['description', 'keyword.other.description.scn'],
      ['Collect the email', TEXT],
      ['start', 'keyword.other.start.scn'],
      ['welcome', STEP],
      ['entry', 'keyword.other.entry.scn'],
      ['ask_email', STEP],
      [',', 'punctuation.separator.comma.scn'],
      ['survey', STEP],
      ['on', 'keyword.other.on.scn'],
      ['close', 'keyword.other.event.scn'],
      ['goto', 'keyword.control.goto.scn'],
      ['rate', STEP],
      ['resume', 'keyword.other.event.scn'],
      ['welcome_back', STEP],
      ['languages', 'keyword.other.languages.scn'],
      ['fr', TAG],
      ['en', TAG],
      ['pt-BR', TAG],
      ['language', 'keyword.other.language.scn'],
      ['from', 'keyword.other.from.scn'],
      ['contact', 'variable.language.scn'],
      ['language', 'variable.other.property.scn'],
      ['escape', 'keyword.other.escape.scn'],
      ['agent', TEXT],
      ['->', 'keyword.operator.arrow.scn'],
      ['handoff', 'keyword.control.handoff.scn'],
      ['advisor', 'keyword.control.advisor.scn'],
      ['}', 'punctuation.section.block.end.scn'],
    ],
  },
  {
    name: 'step names after step, goto and ->, even when they are statement words',
    source: 'step route {\n  goto handoff\n}\nchoice "Yes" -> route\nchoice "Later" -> handoff advisor',
    expect: [
      ['step', 'storage.type.step.scn'],
      ['route', STEP],
      ['goto', 'keyword.control.goto.scn'],
      ['handoff', STEP],
      ['choice', 'keyword.other.choice.scn'],
      ['->', 'keyword.operator.arrow.scn'],
      ['route', STEP],
      ['handoff', 'keyword.control.handoff.scn'],
      ['advisor', 'keyword.control.advisor.scn'],
    ],
  },
  {
    name: 'placeholders in a text, with a text inside them',
    source: 'say "Hello {contact.first_name or "there"}!"',
    expect: [
      ['say', 'keyword.other.say.scn'],
      ['"', 'punctuation.definition.string.begin.scn'],
      ['Hello ', TEXT],
      ['{', OPEN],
      ['contact', 'variable.language.scn'],
      ['contact', EMBEDDED],
      ['.', 'punctuation.accessor.scn'],
      ['first_name', 'variable.other.property.scn'],
      ['or', 'keyword.operator.logical.or.scn'],
      ['or', '!constant.other.language'],
      ['there', TEXT],
      ['there', EMBEDDED],
      ['}', CLOSE],
      ['!', TEXT],
      ['!', '!meta.embedded'],
      ['"', 'punctuation.definition.string.end.scn'],
    ],
  },
  {
    name: 'functions, conditions and schedules inside placeholders',
    source: 'say "{next_open(support)} {lower(contact.email) or "none"} {x is not set}"',
    expect: [
      ['next_open', 'support.function.scn'],
      ['(', 'punctuation.section.parens.begin.scn'],
      ['support', 'variable.other.scn'],
      ['lower', 'support.function.scn'],
      ['email', 'variable.other.property.scn'],
      ['none', TEXT],
      ['is', 'keyword.operator.word.is.scn'],
      ['not', 'keyword.operator.logical.not.scn'],
      ['set', 'keyword.operator.word.set.scn'],
    ],
  },
  {
    name: 'escapes, and a bad one',
    source: 'say "She said \\"hi\\" \\{ \\} \\n \\t \\u{1F600} \\\\ \\q" goto next',
    expect: [
      ['\\"', 'constant.character.escape.scn'],
      ['hi', TEXT],
      ['\\"', 'constant.character.escape.scn'],
      ['\\{', 'constant.character.escape.scn'],
      ['\\{', '!punctuation.section.interpolation'],
      ['\\}', 'constant.character.escape.scn'],
      ['\\n', 'constant.character.escape.scn'],
      ['\\t', 'constant.character.escape.scn'],
      ['\\u{1F600}', 'constant.character.escape.scn'],
      ['\\\\', 'constant.character.escape.scn'],
      ['\\q', 'invalid.illegal.escape.scn'],
      ['goto', 'keyword.control.goto.scn'],
      ['next', STEP],
    ],
  },
  {
    name: 'a multi-line text, its placeholders, and the code after it',
    source: 'say """\n  Hello {contact.name}, "quotes" need no escape.\n  """\ngoto next',
    expect: [
      ['"""', 'punctuation.definition.string.begin.scn'],
      ['Hello ', 'string.quoted.triple.scn'],
      ['{', OPEN],
      ['name', 'variable.other.property.scn'],
      ['"quotes"', 'string.quoted.triple.scn'],
      ['"quotes"', '!punctuation'],
      ['"""', 'punctuation.definition.string.end.scn'],
      ['goto', 'keyword.control.goto.scn'],
      ['goto', '!string'],
    ],
  },
  {
    name: 'an unclosed one-line text stops at the end of its line',
    source: 'say "oops\ngoto next',
    expect: [
      ['oops', TEXT],
      ['goto', 'keyword.control.goto.scn'],
      ['goto', '!string'],
      ['next', STEP],
    ],
  },
  {
    name: 'patterns after expect, when and matches, and a division that is not one',
    source: [
      'expect /^[A-Z]{2}[0-9]{6}$/',
      'when /refund|return/i -> returns',
      'if x matches /^a\\/b # c$/ { goto y }',
      'set half = total / 2',
    ].join('\n'),
    expect: [
      ['expect', 'keyword.other.expect.scn'],
      ['/', 'punctuation.definition.string.begin.regexp.scn'],
      ['^[A-Z]{2}[0-9]{6}$', 'string.regexp.scn'],
      ['/', 'punctuation.definition.string.end.regexp.scn'],
      ['when', 'keyword.other.when.scn'],
      ['refund|return', 'string.regexp.scn'],
      ['i', 'keyword.other.flag.regexp.scn'],
      ['returns', STEP],
      ['matches', 'keyword.operator.word.matches.scn'],
      ['\\/', 'constant.character.escape.regexp.scn'],
      ['# c$', 'string.regexp.scn'],
      ['# c$', '!comment'],
      ['{', 'punctuation.section.block.begin.scn'],
      ['y', STEP],
      ['/', 'keyword.operator.arithmetic.scn'],
      ['/', '!string'],
      ['2', 'constant.numeric.scn'],
    ],
  },
  {
    name: 'durations, numbers, ranges and validators',
    source: [
      'timeout 15m then goto route',
      'timeout 1h30m then end',
      'timeout 45s then end',
      'timeout 2d then handoff advisor',
      'expect integer 1..5',
      'expect number 0.5..10',
      'attempts 3 then goto route',
      'set price = -3.5',
      'expect one of "yes", "no"',
    ].join('\n'),
    expect: [
      ['timeout', 'keyword.other.timeout.scn'],
      ['15m', 'constant.numeric.duration.scn'],
      ['then', 'keyword.control.then.scn'],
      ['route', STEP],
      ['1h30m', 'constant.numeric.duration.scn'],
      ['end', 'keyword.control.end.scn'],
      ['45s', 'constant.numeric.duration.scn'],
      ['2d', 'constant.numeric.duration.scn'],
      ['handoff', 'keyword.control.handoff.scn'],
      ['integer', 'support.type.validator.scn'],
      ['1', 'constant.numeric.scn'],
      ['..', 'keyword.operator.range.scn'],
      ['5', 'constant.numeric.scn'],
      ['number', 'support.type.validator.scn'],
      ['0.5', 'constant.numeric.scn'],
      ['10', 'constant.numeric.scn'],
      ['attempts', 'keyword.other.attempts.scn'],
      ['3', 'constant.numeric.scn'],
      ['3.5', 'constant.numeric.scn'],
      ['expect', 'keyword.other.expect.scn'],
      ['one', 'keyword.other.one.scn'],
      ['of', 'keyword.other.of.scn'],
      ['yes', TEXT],
    ],
  },
  {
    name: 'translations: a language tag before a text, but not a statement word',
    source: [
      'say "Bonjour" en "Hello" pt-BR "Olá"',
      'ask "Q ?" en "Q?" {',
      '  choice "Oui" en "Yes" = "yes" -> done',
      '  invalid "Pardon ?"',
      '    en "Sorry?"',
      '}',
      'say "a" say "b"',
      'say one of "Salut !" en "Hi!", "Bonjour !" en "Hello!"',
    ].join('\n'),
    expect: [
      ['en', TAG],
      ['Hello', TEXT],
      ['pt-BR', TAG],
      ['ask', 'keyword.other.ask.scn'],
      ['en', TAG],
      ['choice', 'keyword.other.choice.scn'],
      ['en', TAG],
      ['=', 'keyword.operator.assignment.scn'],
      ['done', STEP],
      ['invalid', 'keyword.other.invalid.scn'],
      ['en', TAG],
      ['say', 'keyword.other.say.scn'],
      ['say', 'keyword.other.say.scn'],
      ['say', '!constant'],
      ['one', 'keyword.other.one.scn'],
      ['of', 'keyword.other.of.scn'],
      ['of', '!constant'],
      ['en', TAG],
      ['Hi!', TEXT],
      ['en', TAG],
    ],
  },
  {
    name: 'paths: the contact, the conversation, the answer, the ticket and variables',
    source: [
      'set contact.email = answer',
      'if contact.email is set and not (conversation.language == "fr") {',
      'set ticket.fields.order_number = order.id',
      'if tries >= 2 or x != "a" or contact.tags is not empty { end }',
    ].join('\n'),
    expect: [
      ['set', 'keyword.other.set.scn'],
      ['contact', 'variable.language.scn'],
      ['email', 'variable.other.property.scn'],
      ['=', 'keyword.operator.assignment.scn'],
      ['answer', 'variable.language.scn'],
      ['if', 'keyword.control.if.scn'],
      ['contact', 'variable.language.scn'],
      ['is', 'keyword.operator.word.is.scn'],
      ['set', 'keyword.operator.word.set.scn'],
      ['and', 'keyword.operator.logical.and.scn'],
      ['not', 'keyword.operator.logical.not.scn'],
      ['conversation', 'variable.language.scn'],
      ['language', 'variable.other.property.scn'],
      ['==', 'keyword.operator.comparison.scn'],
      ['ticket', 'variable.other.scn'],
      ['fields', 'variable.other.property.scn'],
      ['order_number', 'variable.other.property.scn'],
      ['order', 'variable.other.scn'],
      ['id', 'variable.other.property.scn'],
      ['tries', 'variable.other.scn'],
      ['>=', 'keyword.operator.comparison.scn'],
      ['2', 'constant.numeric.scn'],
      ['!=', 'keyword.operator.comparison.scn'],
      ['empty', 'keyword.operator.word.empty.scn'],
    ],
  },
  {
    name: 'booleans, lists and opening hours',
    source: 'set ok = true\nset ko = false\nset ticket.tags = ["order", "bot"]\nif open support { goto welcome }',
    expect: [
      ['true', 'constant.language.boolean.true.scn'],
      ['false', 'constant.language.boolean.false.scn'],
      ['[', 'punctuation.section.brackets.begin.scn'],
      ['order', TEXT],
      [',', 'punctuation.separator.comma.scn'],
      [']', 'punctuation.section.brackets.end.scn'],
      ['open', 'keyword.operator.word.open.scn'],
      ['support', 'variable.other.schedule.scn'],
    ],
  },
  {
    name: 'statements: route, handoff, end, if/else, rich messages',
    source: [
      'route team "Support"',
      'if x { handoff advisor } else if y { end } else { goto z }',
      'link "Track" "https://acme.example/t/{contact.order_number}"',
      'image "https://acme.example/map.png" "Map"',
      'card "Your order" {',
      '  text "Shipped today"',
      '}',
    ].join('\n'),
    expect: [
      ['route', 'keyword.other.route.scn'],
      ['team', 'keyword.other.team.scn'],
      ['Support', TEXT],
      ['if', 'keyword.control.if.scn'],
      ['handoff', 'keyword.control.handoff.scn'],
      ['advisor', 'keyword.control.advisor.scn'],
      ['else', 'keyword.control.else.scn'],
      ['if', 'keyword.control.if.scn'],
      ['end', 'keyword.control.end.scn'],
      ['else', 'keyword.control.else.scn'],
      ['z', STEP],
      ['link', 'keyword.other.link.scn'],
      ['{', OPEN],
      ['order_number', 'variable.other.property.scn'],
      ['image', 'keyword.other.image.scn'],
      ['card', 'keyword.other.card.scn'],
      ['text', 'keyword.other.text.scn'],
    ],
  },
  {
    name: 'a call: action, arguments, result and error jump, on one line and on several',
    source: [
      'call zendesk.create_ticket(subject: "Chat with {contact.name}", tags: ["chat"]) as ticket { on error goto handoff }',
      'call zendesk.find_or_create_user(',
      '  email: contact.email, # why',
      '  name: contact.name,',
      ') as user { on error goto handoff }',
    ].join('\n'),
    expect: [
      ['call', 'keyword.other.call.scn'],
      ['zendesk.create_ticket', 'support.function.action.scn'],
      ['(', 'punctuation.definition.arguments.begin.scn'],
      ['subject', 'variable.parameter.scn'],
      [':', 'punctuation.separator.key-value.scn'],
      ['Chat with ', TEXT],
      ['tags', 'variable.parameter.scn'],
      [')', 'punctuation.definition.arguments.end.scn'],
      ['as', 'keyword.other.as.scn'],
      ['ticket', 'variable.other.definition.scn'],
      ['on', 'keyword.other.on.scn'],
      ['error', 'keyword.other.event.scn'],
      ['handoff', STEP],
      ['zendesk.find_or_create_user', 'support.function.action.scn'],
      ['email', 'variable.parameter.scn'],
      ['contact', 'variable.language.scn'],
      ['# why', 'comment.line.number-sign.scn'],
      ['name', 'variable.parameter.scn'],
      [')', 'punctuation.definition.arguments.end.scn'],
      ['as', 'keyword.other.as.scn'],
      ['user', 'variable.other.definition.scn'],
      ['handoff', STEP],
    ],
  },
  {
    name: 'a phone number of a country',
    source: 'scenario s { start a step a { ask "Phone?" { expect phone FR save contact.phone } end } }',
    expect: [
      ['expect', 'keyword.other.expect.scn'],
      ['phone', 'support.type.validator.scn'],
      ['FR', 'constant.other.region.scn'],
      ['save', 'keyword.other.save.scn'],
    ],
  },
  {
    name: 'a file of shared flows: parameters typed step and field',
    source: [
      '# a file of shared flows (no scenario in it)',
      'flow email_capture(save_to: field, done: step) {',
      '  description "Ask for the email"',
      '  start ask_email',
      '  step ask_email {',
      '    ask "Your email?" { expect email save save_to attempts 3 then goto done }',
      '    goto done',
      '  }',
      '}',
    ].join('\n'),
    expect: [
      ['a file of shared flows', 'comment.line.number-sign.scn'],
      ['flow', 'storage.type.flow.scn'],
      ['email_capture', 'entity.name.function.flow.scn'],
      ['(', 'punctuation.definition.parameters.begin.scn'],
      ['save_to', 'variable.parameter.scn'],
      [':', 'punctuation.separator.key-value.scn'],
      ['field', 'storage.type.parameter.scn'],
      ['done', 'variable.parameter.scn'],
      ['step', 'storage.type.parameter.scn'],
      ['step', '!storage.type.step'],
      [')', 'punctuation.definition.parameters.end.scn'],
      ['{', 'punctuation.section.block.begin.scn'],
      ['description', 'keyword.other.description.scn'],
      ['start', 'keyword.other.start.scn'],
      ['ask_email', STEP],
      ['step', 'storage.type.step.scn'],
      ['ask_email', STEP],
      ['ask', 'keyword.other.ask.scn'],
      ['Your email?', 'string.quoted.double.scn'],
      ['expect', 'keyword.other.expect.scn'],
      ['email', 'support.type.validator.scn'],
      ['save', 'keyword.other.save.scn'],
      ['save_to', 'variable.other.scn'],
      ['attempts', 'keyword.other.attempts.scn'],
      ['3', 'constant.numeric.scn'],
      ['done', STEP],
      ['goto', 'keyword.control.goto.scn'],
      ['done', STEP],
    ],
  },
  {
    name: 'flow parameters over several lines',
    source: 'flow ask_phone(\n  save_to: field, # where\n  done: step,\n) {\n  start ask\n}',
    expect: [
      ['ask_phone', 'entity.name.function.flow.scn'],
      ['save_to', 'variable.parameter.scn'],
      ['field', 'storage.type.parameter.scn'],
      ['# where', 'comment.line.number-sign.scn'],
      ['step', 'storage.type.parameter.scn'],
      [')', 'punctuation.definition.parameters.end.scn'],
      ['start', 'keyword.other.start.scn'],
      ['ask', STEP],
    ],
  },
  {
    name: 'including a flow in a scenario, with its arguments and its name',
    source: [
      'scenario signup {',
      '  include email_capture(save_to: contact.email, done: route, prompt: "Your email?") as capture',
      '  include survey(',
      '    done: goodbye,',
      '  ) as rating',
      '  start capture',
      '}',
    ].join('\n'),
    expect: [
      ['include', 'keyword.other.include.scn'],
      ['email_capture', 'entity.name.function.flow.scn'],
      ['(', 'punctuation.definition.arguments.begin.scn'],
      ['save_to', 'variable.parameter.scn'],
      ['contact', 'variable.language.scn'],
      ['email', 'variable.other.property.scn'],
      ['done', 'variable.parameter.scn'],
      ['route', 'variable.other.scn'],
      ['route', '!keyword'],
      ['prompt', 'variable.parameter.scn'],
      ['Your email?', TEXT],
      [')', 'punctuation.definition.arguments.end.scn'],
      ['as', 'keyword.other.as.scn'],
      ['capture', 'entity.name.namespace.include.scn'],
      ['include', 'keyword.other.include.scn'],
      ['survey', 'entity.name.function.flow.scn'],
      ['done', 'variable.parameter.scn'],
      ['goodbye', 'variable.other.scn'],
      [')', 'punctuation.definition.arguments.end.scn'],
      ['as', 'keyword.other.as.scn'],
      ['rating', 'entity.name.namespace.include.scn'],
      ['start', 'keyword.other.start.scn'],
    ],
  },
];

/** The scopes of every character of `source`, in order (a line break has none). */
function scopesOfCharacters(tokenized) {
  const out = [];
  for (const line of tokenized.lines) {
    for (let column = 0; column < line.text.length; column += 1) out.push(scopesAt(line, column));
    out.push(null);
  }
  return out;
}

for (const { name, source, expect } of CASES) {
  test(`snippet: ${name}`, async () => {
    const grammar = await loadGrammar();
    const tokenized = tokenize(grammar, source);
    const characters = scopesOfCharacters(tokenized);
    const problems = [];
    let from = 0;
    let previous = null;
    for (const [text, scope] of expect) {
      const at = previous !== null && previous.text === text ? previous.at : source.indexOf(text, from);
      if (at === -1) {
        problems.push(`\`${text}\` not found after offset ${from}`);
        continue;
      }
      previous = { text, at };
      from = at + text.length;
      for (let k = at; k < at + text.length; k += 1) {
        const scopes = characters[k] || [];
        const ok = scope.startsWith('!')
          ? !scopes.some((s) => s.startsWith(scope.slice(1)))
          : scopes.includes(scope);
        if (!ok) {
          problems.push(`\`${text}\` at ${at}: expected ${scope}, has ${scopes.join(' ')}`);
          break;
        }
      }
    }
    tokenized.lines.forEach((line, index) => {
      const leaking = line.carried.filter((s) => !MAY_SPAN_LINES.includes(s));
      if (leaking.length > 0) problems.push(`line ${index + 1} ends inside ${leaking.join(' ')}`);
    });
    if (tokenized.finalDepth !== 1) problems.push(`the snippet ends ${tokenized.finalDepth - 1} rule(s) deep`);
    assert.deepEqual(problems, []);
  });
}

test('the table covers every construct of the brief', () => {
  const scopes = new Set(CASES.flatMap((c) => c.expect.map(([, scope]) => scope)));
  for (const scope of [
    'storage.type.flow.scn', 'keyword.other.include.scn', 'storage.type.parameter.scn', STEP,
    OPEN, EMBEDDED, 'string.regexp.scn', 'constant.numeric.duration.scn', 'constant.numeric.scn',
    'comment.line.number-sign.scn', TAG, 'variable.language.scn', 'string.quoted.triple.scn',
  ]) {
    assert.ok(scopes.has(scope), `no snippet checks ${scope}`);
  }
});
