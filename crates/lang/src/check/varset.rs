//! The conversation variables of a scenario, numbered, and a set over them for the
//! definite-assignment analysis in `flow.rs`.

use std::borrow::Cow;
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

/// A set of variables. Kept as runs of consecutive numbers while they take less memory than
/// a bit per variable, then as bits: variables are numbered in source order, so the entry set
/// of a step in a long scenario is mostly "every variable of the steps before it", one run,
/// where bits take one per variable of the whole scenario for every step (the generated
/// 2,300-step scenario: 4 MB of entry sets, quadratic in its length). A scenario of at most
/// 64 variables uses bits from its first variable on, as before.
#[derive(Clone, Debug)]
pub(crate) struct VarSet {
    /// How many 64-bit words the bits take: `insert` ignores numbers beyond them.
    words: usize,
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Half-open ranges `start..end`, sorted, neither overlapping nor touching (so each set
    /// has one spelling, and `==` compares sets).
    Runs(Vec<(usize, usize)>),
    Bits(Vec<u64>),
}

impl VarSet {
    pub(crate) fn empty(len: usize) -> Self {
        Self {
            words: len.div_ceil(64),
            repr: Repr::Runs(Vec::new()),
        }
    }

    pub(crate) fn insert(&mut self, bit: usize) {
        if bit / 64 >= self.words {
            return;
        }
        match &mut self.repr {
            Repr::Bits(words) => {
                if let Some(word) = words.get_mut(bit / 64) {
                    *word |= 1 << (bit % 64);
                }
            }
            Repr::Runs(runs) => {
                // The first run that ends at or after `bit`: it holds it, ends right before
                // it, or starts after it.
                let at = runs.partition_point(|&(_, end)| end < bit);
                match runs.get(at).copied() {
                    Some((start, end)) if start <= bit && bit < end => return,
                    Some((start, end)) if start <= bit => {
                        // `end == bit`: the run grows, and meets the next if it starts at
                        // `bit + 1`.
                        let joined = runs.get(at + 1).filter(|next| next.0 == end + 1).copied();
                        runs[at].1 = joined.map_or(end + 1, |next| next.1);
                        if joined.is_some() {
                            runs.remove(at + 1);
                        }
                    }
                    Some((start, _)) if start == bit + 1 => runs[at].0 = bit,
                    _ => runs.insert(at, (bit, bit + 1)),
                }
                self.compact();
            }
        }
    }

    pub(crate) fn contains(&self, bit: usize) -> bool {
        match &self.repr {
            Repr::Bits(words) => words
                .get(bit / 64)
                .is_some_and(|word| word & (1 << (bit % 64)) != 0),
            Repr::Runs(runs) => {
                let at = runs.partition_point(|&(_, end)| end <= bit);
                runs.get(at).is_some_and(|&(start, _)| start <= bit)
            }
        }
    }

    /// Keeps only the variables also in `other`.
    pub(crate) fn intersect(&mut self, other: &VarSet) {
        if let (Repr::Runs(mine), Repr::Runs(theirs)) = (&self.repr, &other.repr) {
            let mut both = Vec::new();
            let (mut i, mut j) = (0, 0);
            while let (Some(&(a_start, a_end)), Some(&(b_start, b_end))) =
                (mine.get(i), theirs.get(j))
            {
                let (start, end) = (a_start.max(b_start), a_end.min(b_end));
                if start < end {
                    both.push((start, end));
                }
                if a_end < b_end {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            self.repr = Repr::Runs(both);
            self.compact();
            return;
        }
        let theirs = other.bits();
        let mut mine = match std::mem::replace(&mut self.repr, Repr::Runs(Vec::new())) {
            Repr::Bits(words) => words,
            runs @ Repr::Runs(_) => Self::bits_of(&runs, self.words),
        };
        for (word, other) in mine.iter_mut().zip(theirs.iter()) {
            *word &= other;
        }
        self.repr = Repr::Bits(mine);
    }

    /// Bits instead of runs once the runs take more memory (16 bytes a run, 8 a word).
    fn compact(&mut self) {
        if let Repr::Runs(runs) = &self.repr
            && runs.len() * 2 > self.words
        {
            self.repr = Repr::Bits(Self::bits_of(&self.repr, self.words));
        }
    }

    /// The set as bits: borrowed when it holds bits, built from its runs otherwise.
    fn bits(&self) -> Cow<'_, [u64]> {
        match &self.repr {
            Repr::Bits(bits) => Cow::Borrowed(bits),
            runs @ Repr::Runs(_) => Cow::Owned(Self::bits_of(runs, self.words)),
        }
    }

    fn bits_of(repr: &Repr, words: usize) -> Vec<u64> {
        match repr {
            Repr::Bits(bits) => bits.clone(),
            Repr::Runs(runs) => {
                let mut bits = vec![0; words];
                for bit in runs.iter().flat_map(|&(start, end)| start..end) {
                    if let Some(word) = bits.get_mut(bit / 64) {
                        *word |= 1 << (bit % 64);
                    }
                }
                bits
            }
        }
    }
}

impl PartialEq for VarSet {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
            && match (&self.repr, &other.repr) {
                (Repr::Runs(a), Repr::Runs(b)) => a == b,
                _ => self.bits() == other.bits(),
            }
    }
}

impl Eq for VarSet {}

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

    /// Runs and bits answer as a plain set does, whichever each set holds, through random
    /// inserts and intersections (sizes from one word, where bits are used at once, to
    /// enough words that runs are kept).
    #[test]
    fn runs_and_bits_agree_with_a_plain_set() {
        use std::collections::BTreeSet;
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |below: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap() % below
        };
        for len in [1, 64, 65, 130, 1000, 5000] {
            for _ in 0..10 {
                let mut sets: Vec<(VarSet, BTreeSet<usize>)> = (0..3)
                    .map(|_| (VarSet::empty(len), BTreeSet::new()))
                    .collect();
                for step in 0..400 {
                    let which = next(3);
                    if next(8) == 0 {
                        let other = next(3);
                        let (theirs, plain_theirs) = sets[other].clone();
                        let (mine, plain) = &mut sets[which];
                        let before = mine.clone();
                        mine.intersect(&theirs);
                        plain.retain(|bit| plain_theirs.contains(bit));
                        let changed = plain.len() != before_len(&before, len);
                        assert_eq!(*mine != before, changed, "len {len}");
                    } else {
                        // Mostly a stretch of neighbours, as a scenario numbers its variables.
                        let bit = if next(4) == 0 {
                            next(len)
                        } else {
                            next(len.min(40)) + len / 2
                        };
                        let bit = bit.min(len - 1);
                        sets[which].0.insert(bit);
                        sets[which].1.insert(bit);
                    }
                    let (set, plain) = &sets[which];
                    if step % 8 != 7 {
                        continue;
                    }
                    for bit in 0..len + 70 {
                        assert_eq!(
                            set.contains(bit),
                            plain.contains(&bit),
                            "len {len}, bit {bit}"
                        );
                    }
                }
                for (a, plain_a) in &sets {
                    for (b, plain_b) in &sets {
                        assert_eq!(a == b, plain_a == plain_b);
                    }
                }
            }
        }
    }

    fn before_len(set: &VarSet, len: usize) -> usize {
        (0..len).filter(|bit| set.contains(*bit)).count()
    }
}
