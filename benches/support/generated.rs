//! The generated every-construct scenario the benchmarks share (`parse_check`, `lsp`).

use std::fmt::Write as _;

/// A lint-clean scenario of `steps` steps, using every construct (since language v2 also values
/// written with `set`, arithmetic, functions, opening hours and a declared HTTP action).
pub(crate) fn generate(steps: usize) -> String {
    let mut text = String::from(
        "# Generated for the benchmarks.\nscenario generated {\n  description \"A long generated flow\"\n  start step_0\n",
    );
    for i in 0..steps {
        let next = if i + 1 == steps {
            "handoff advisor".to_owned()
        } else {
            format!("goto step_{}", i + 1)
        };
        let _ = write!(
            text,
            "\n  step step_{i} {{\n    say \"Hello {{contact.first_name or \"there\"}}, this is step {i}.\"\n    ask \"Your order number?\" {{\n      expect /^[A-Z]{{2}}[0-9]{{6}}$/\n      save order_{i}\n      invalid \"\\\"{{answer}}\\\" is not an order number.\"\n      attempts 3 then goto step_{i}_help\n      timeout 15m then handoff advisor\n    }}\n    if order_{i} matches /^FR/ and contact.vip is set {{\n      say \"Merci, {{order_{i}}}!\"\n    }} else {{\n      route team \"Orders\"\n    }}\n    set total_{i} = length(order_{i}) * 2 + 1\n    set contact.language = lower(trim(\"FR \"))\n    set ticket.priority = \"high\"\n    set ticket.fields.order_number = upper(order_{i})\n    if open support and total_{i} > 3 {{\n      say \"Open {{next_open(support)}}: {{format_number(total_{i}, 2)}}.\"\n    }}\n    call oms.get_order(number: order_{i}) as found_{i} {{ on error goto step_{i}_help }}\n    say \"Status: {{found_{i}.status}}\"\n    {next}\n  }}\n\n  step step_{i}_help {{\n    say \"An advisor will help you with step {i}.\"\n    handoff advisor\n  }}\n"
        );
    }
    text.push_str("}\n");
    text
}
