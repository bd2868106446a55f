//! Expressions for the formatter: the tree printed as parsed, `Paren` nodes included, with
//! single spaces around operators.
//!
//! Parentheses are added only where the tree could not be read back otherwise (trees that
//! the parser did not build). The rules mirror the `PrattParser` of `syntax/expr.rs`
//! exactly, so they never add parentheses to a parsed tree:
//!
//! - binary operators are left-associative: the left operand needs a precedence at least
//!   the operator's, the right operand a strictly higher one;
//! - `not x` reads its operand with the precedence of `not`, so it takes in any comparison
//!   or postfix test that follows (`not a == b` is `not (a == b)`), but stops at `and`/`or`.
//!   A `not` therefore needs parentheses only when such an operator follows it, wherever
//!   it stands (`a == not b` is fine); and `not not x` is refused by the grammar;
//! - the postfix tests bind tightest; their operand must be a primary or another test.

use super::text::text;
use crate::ast::{BinaryOp, Expr, ExprKind};

const OR: u8 = 10;
const AND: u8 = 20;
const NOT: u8 = 30;
const COMPARISON: u8 = 40;
const ADDITIVE: u8 = 43;
const MULTIPLICATIVE: u8 = 46;
const POSTFIX: u8 = 50;

/// `expr` printed for a line at `indent` (used by multi-line texts inside it).
pub(crate) fn expr(expr: &Expr, indent: usize) -> String {
    let mut out = String::new();
    write(&mut out, expr, indent, 0, 0);
    out
}

fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => OR,
        BinaryOp::And => AND,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            COMPARISON
        }
        BinaryOp::Add | BinaryOp::Sub => ADDITIVE,
        BinaryOp::Mul | BinaryOp::Div => MULTIPLICATIVE,
    }
}

/// Writes `expr` where its top operator must bind at least as tightly as `min`, and where
/// an operator of precedence `follow` comes next (0: nothing that could bind to it).
fn write(out: &mut String, expr: &Expr, indent: usize, min: u8, follow: u8) {
    match &expr.kind {
        ExprKind::Binary { op, lhs, rhs } => {
            let prec = precedence(*op);
            let wrap = prec < min || follow > prec;
            let follow = if wrap { 0 } else { follow };
            open(out, wrap);
            write(out, lhs, indent, prec, prec);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write(out, rhs, indent, prec + 1, follow);
            close(out, wrap);
        }
        ExprKind::Not(operand) => {
            // `not` takes in every operator above its own precedence that follows.
            let wrap = follow > NOT - 1;
            let follow = if wrap { 0 } else { follow };
            open(out, wrap);
            out.push_str("not ");
            if matches!(operand.kind, ExprKind::Not(_)) {
                // `not not x` is refused by the grammar.
                out.push('(');
                write(out, operand, indent, 0, 0);
                out.push(')');
            } else {
                write(out, operand, indent, NOT, follow);
            }
            close(out, wrap);
        }
        ExprKind::Test { op, operand } => {
            write(out, operand, indent, POSTFIX, POSTFIX);
            out.push(' ');
            out.push_str(op.words());
        }
        ExprKind::Matches { operand, regex } => {
            write(out, operand, indent, POSTFIX, POSTFIX);
            out.push_str(" matches /");
            out.push_str(&regex.pattern);
            out.push('/');
            out.push_str(&regex.flags);
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            write(out, inner, indent, 0, 0);
            out.push(')');
        }
        ExprKind::List(items) => {
            out.push('[');
            write_all(out, items, indent);
            out.push(']');
        }
        ExprKind::Text(literal) => out.push_str(&text(literal, indent)),
        ExprKind::Number(number) => out.push_str(&number.text),
        ExprKind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        ExprKind::Path(path) => out.push_str(&path.dotted()),
        ExprKind::Open(schedule) => {
            out.push_str("open ");
            out.push_str(&schedule.text);
        }
        ExprKind::Call { function, args } => {
            out.push_str(&function.text);
            out.push('(');
            write_all(out, args, indent);
            out.push(')');
        }
    }
}

/// `a, b, c`: the items of a list or the arguments of a call.
fn write_all(out: &mut String, items: &[Expr], indent: usize) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write(out, item, indent, 0, 0);
    }
}

fn open(out: &mut String, wrap: bool) {
    if wrap {
        out.push('(');
    }
}

fn close(out: &mut String, wrap: bool) {
    if wrap {
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Name, Path, TestOp};
    use crate::source::Span;

    fn path(name: &str) -> Expr {
        let segment = Name {
            text: name.to_owned(),
            span: Span::default(),
        };
        let path = Path {
            segments: vec![segment],
            span: Span::default(),
        };
        boxed(ExprKind::Path(path))
    }

    fn boxed(kind: ExprKind) -> Expr {
        Expr {
            kind,
            span: Span::default(),
        }
    }

    fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        boxed(ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        })
    }

    fn not(operand: Expr) -> Expr {
        boxed(ExprKind::Not(Box::new(operand)))
    }

    #[test]
    fn synthetic_trees_get_the_parentheses_they_need() {
        let and = binary(BinaryOp::And, path("a"), path("b"));
        let or_of_and = binary(BinaryOp::Or, and.clone(), path("c"));
        assert_eq!(expr(&or_of_and, 0), "a and b or c");
        let and_of_or = binary(
            BinaryOp::And,
            path("c"),
            binary(BinaryOp::Or, path("a"), path("b")),
        );
        assert_eq!(expr(&and_of_or, 0), "c and (a or b)");
        let right_nested = binary(
            BinaryOp::Eq,
            path("a"),
            binary(BinaryOp::Eq, path("b"), path("c")),
        );
        assert_eq!(expr(&right_nested, 0), "a == (b == c)");
        let test = boxed(ExprKind::Test {
            op: TestOp::IsSet,
            operand: Box::new(and),
        });
        assert_eq!(expr(&test, 0), "(a and b) is set");
        assert_eq!(expr(&not(not(path("a"))), 0), "not (not a)");
        assert_eq!(
            expr(&not(binary(BinaryOp::Or, path("a"), path("b"))), 0),
            "not (a or b)"
        );
        let not_left = binary(BinaryOp::Eq, not(path("a")), path("b"));
        assert_eq!(expr(&not_left, 0), "(not a) == b");
        let not_right = binary(BinaryOp::Eq, path("a"), not(path("b")));
        assert_eq!(expr(&not_right, 0), "a == not b");
        let not_inside = binary(BinaryOp::Ne, not_right, path("c"));
        assert_eq!(expr(&not_inside, 0), "a == (not b) != c");
        let not_and = binary(BinaryOp::And, not(path("a")), path("b"));
        assert_eq!(expr(&not_and, 0), "not a and b");
    }
}
