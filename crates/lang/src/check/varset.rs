//! The conversation variables of a scenario, numbered, and a bit set over them for the
//! definite-assignment analysis in `flow.rs`.

use std::collections::HashMap;

use crate::ast::{AskOptionKind, Path, Scenario, Stmt, StmtKind, Visit, walk_stmt};

/// Names that are not conversation variables: namespaces and the runtime's own values.
pub(crate) const RESERVED_ROOTS: &[&str] = crate::builtins::RESERVED_ROOTS;

/// Every variable of a scenario: `answer` (bit 0) and every name a `set`, `save` or
/// `call … as` assigns.
#[derive(Debug, Default)]
pub(crate) struct VarIndex {
    names: Vec<String>,
    bits: HashMap<String, usize>,
}

impl VarIndex {
    pub(crate) fn collect(scenario: &Scenario) -> Self {
        let mut index = VarIndex::default();
        index.add(crate::builtins::ANSWER);
        let mut collector = Collector { index: &mut index };
        for step in scenario.steps() {
            for stmt in &step.body.statements {
                collector.visit_stmt(stmt);
            }
        }
        index
    }

    fn add(&mut self, name: &str) {
        if !self.bits.contains_key(name) {
            self.bits.insert(name.to_owned(), self.names.len());
            self.names.push(name.to_owned());
        }
    }

    pub(crate) fn bit(&self, name: &str) -> Option<usize> {
        self.bits.get(name).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn empty_set(&self) -> VarSet {
        VarSet::empty(self.len())
    }
}

/// The variable a `save` path writes, if it writes a variable (not a contact field).
pub(crate) fn saved_variable(path: &Path) -> Option<&str> {
    match path.segments.as_slice() {
        [single] if !RESERVED_ROOTS.contains(&single.text.as_str()) => Some(&single.text),
        _ => None,
    }
}

struct Collector<'i> {
    index: &'i mut VarIndex,
}

impl<'a> Visit<'a> for Collector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match &stmt.kind {
            StmtKind::Set { name, .. } if !RESERVED_ROOTS.contains(&name.text.as_str()) => {
                self.index.add(&name.text);
            }
            StmtKind::Ask(ask) => {
                for option in &ask.options {
                    if let AskOptionKind::Save(path) = &option.kind {
                        if let Some(name) = saved_variable(path) {
                            self.index.add(name);
                        }
                    }
                }
            }
            StmtKind::Call(call) => {
                if let Some(name) = &call.result {
                    if !RESERVED_ROOTS.contains(&name.text.as_str()) {
                        self.index.add(&name.text);
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }
}

/// A set of variables, one bit each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VarSet {
    words: Vec<u64>,
}

impl VarSet {
    pub(crate) fn empty(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    pub(crate) fn insert(&mut self, bit: usize) {
        if let Some(word) = self.words.get_mut(bit / 64) {
            *word |= 1 << (bit % 64);
        }
    }

    pub(crate) fn contains(&self, bit: usize) -> bool {
        self.words
            .get(bit / 64)
            .is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }

    /// Keeps only the variables also in `other`.
    pub(crate) fn intersect(&mut self, other: &VarSet) {
        for (word, other) in self.words.iter_mut().zip(&other.words) {
            *word &= other;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VarSet;

    #[test]
    fn bits_beyond_one_word() {
        let mut a = VarSet::empty(130);
        a.insert(3);
        a.insert(129);
        let mut b = VarSet::empty(130);
        b.insert(129);
        a.intersect(&b);
        assert!(!a.contains(3));
        assert!(a.contains(129));
    }
}
