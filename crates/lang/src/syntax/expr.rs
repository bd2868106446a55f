//! Expressions: one `PrattParser` (STYLE C6), built once. Precedence, lowest first:
//! `or`, `and`, `not`, comparisons (`==` `!=` `<` `<=` `>` `>=`), `+` `-`, `*` `/`, then the
//! postfix tests
//! (`is set`, `is not set`, `is empty`, `is not empty`, `matches /re/`).
//!
//! Chains such as `a or b or c …` build left-deep trees; their depth is capped so that the
//! checker's and formatter's recursion stays bounded whatever the input.

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::cursor::{Children, exact, internal, span_of};
use super::grammar::Rule;
use super::lower::{Lowered, Lowerer, lower_regex, name};
use crate::ast::{BinaryOp, Expr, ExprKind, Number, Path, TestOp};
use crate::diagnostic::{Code, Diagnostic};

/// The deepest expression tree accepted (a chain of 128 `or`s is far beyond any need).
pub const MAX_EXPR_DEPTH: u32 = 128;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::postfix(Rule::op_is_set)
            | Op::postfix(Rule::op_is_not_set)
            | Op::postfix(Rule::op_is_empty)
            | Op::postfix(Rule::op_is_not_empty)
            | Op::postfix(Rule::op_matches))
});

type Deep = (Expr, u32);

impl Lowerer {
    pub(crate) fn lower_expr(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        debug_assert_eq!(pair.as_rule(), Rule::expr);
        let span = span_of(&pair);
        let mut inner = pair.into_inner().peekable();
        if inner.peek().is_none() {
            // The PrattParser panics on empty input; the grammar never produces it.
            return Err(internal(span, "expr: no operand"));
        }
        let (expr, _) = PRATT
            .map_primary(|primary| self.lower_primary(primary).map(|e| (e, 0)))
            .map_prefix(|op, operand| {
                let (operand, depth) = operand?;
                let span = span_of(&op).to(operand.span);
                deeper(ExprKind::Not(Box::new(operand)), span, depth)
            })
            .map_postfix(|operand, op| {
                let (operand, depth) = operand?;
                let span = operand.span.to(span_of(&op));
                let kind = match op.as_rule() {
                    Rule::op_is_set => test(TestOp::IsSet, operand),
                    Rule::op_is_not_set => test(TestOp::IsNotSet, operand),
                    Rule::op_is_empty => test(TestOp::IsEmpty, operand),
                    Rule::op_is_not_empty => test(TestOp::IsNotEmpty, operand),
                    Rule::op_matches => {
                        let mut children = Children::of(op);
                        let regex = Box::new(lower_regex(children.child(Rule::regex)?)?);
                        children.finish()?;
                        ExprKind::Matches {
                            operand: Box::new(operand),
                            regex,
                        }
                    }
                    other => return Err(internal(span, &format!("postfix: unexpected {other:?}"))),
                };
                deeper(kind, span, depth)
            })
            .map_infix(|lhs, op, rhs| {
                let ((lhs, left_depth), (rhs, right_depth)) = (lhs?, rhs?);
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    other => return Err(internal(span, &format!("infix: unexpected {other:?}"))),
                };
                let kind = ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                };
                deeper(kind, span, left_depth.max(right_depth))
            })
            .parse(inner)?;
        Ok(expr)
    }

    fn lower_primary(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => {
                let mut children = Children::of(pair);
                let inner = self.lower_expr(children.child(Rule::expr)?)?;
                children.finish()?;
                ExprKind::Paren(Box::new(inner))
            }
            Rule::string => ExprKind::Text(self.lower_string(pair)?),
            Rule::number => ExprKind::Number(lower_number(&pair)?),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::list => ExprKind::List(exact(
                Children::of(pair)
                    .map(|item| self.lower_expr(item))
                    .collect::<Lowered<_>>()?,
            )),
            Rule::path => ExprKind::Path(lower_path(pair)?),
            Rule::open_test => {
                let mut children = Children::of(pair);
                let schedule = name(&children.child(Rule::schedule_ref)?);
                children.finish()?;
                ExprKind::Open(schedule)
            }
            Rule::function_call => {
                let mut children = Children::of(pair);
                let function = name(&children.child(Rule::function_name)?);
                let mut args = Vec::new();
                while let Some(arg) = children.optional(Rule::expr) {
                    args.push(self.lower_expr(arg)?);
                }
                children.finish()?;
                ExprKind::Call {
                    function,
                    args: exact(args),
                }
            }
            other => return Err(internal(span, &format!("primary: unexpected {other:?}"))),
        };
        Ok(Expr { kind, span })
    }
}

pub(crate) fn lower_path(pair: Pair<'_, Rule>) -> Lowered<Path> {
    debug_assert_eq!(pair.as_rule(), Rule::path);
    let span = span_of(&pair);
    let segments: Vec<_> = Children::of(pair).map(|segment| name(&segment)).collect();
    if segments.is_empty() {
        return Err(internal(span, "path: no segment"));
    }
    Ok(Path {
        segments: exact(segments),
        span,
    })
}

fn test(op: TestOp, operand: Expr) -> ExprKind {
    ExprKind::Test {
        op,
        operand: Box::new(operand),
    }
}

fn deeper(kind: ExprKind, span: crate::source::Span, depth: u32) -> Lowered<Deep> {
    let depth = depth + 1;
    if depth > MAX_EXPR_DEPTH {
        return Err(Diagnostic::new(
            Code::NestingTooDeep,
            span,
            format!("this condition has more than {MAX_EXPR_DEPTH} operators in a chain"),
        )
        .with_help(
            "split it: compute parts with `set` first, or spread the test over several steps",
        ));
    }
    Ok((Expr { kind, span }, depth))
}

pub(crate) fn lower_number(pair: &Pair<'_, Rule>) -> Lowered<Number> {
    let text = pair.as_str();
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value.abs() < 1e15 => Ok(Number {
            text: text.to_owned(),
            value,
        }),
        _ => Err(Diagnostic::new(
            Code::InvalidLiteral,
            span_of(pair),
            format!("the number `{text}` is too large"),
        )
        .with_help("numbers must stay below 1000000000000000 in size")),
    }
}
