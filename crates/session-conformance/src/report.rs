//! [`Expect`] (what kind of store is checked) and [`Report`] (what the kit checked).

use std::fmt;

use crate::check::Contract;

/// What the kit expects of the store or engine under test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// The store keeps sessions until they expire or are deleted: every store meant for real use.
    #[default]
    Persistent,
    /// The store keeps nothing (such as `NullStore`): `create` pretends to store, `load` finds
    /// nothing, so every request starts a new, empty session.
    KeepsNothing,
}

/// A contract the kit did not check, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// The contract's name.
    pub contract: &'static str,
    /// Why it was not checked.
    pub reason: &'static str,
}

/// What a kit function checked: the contracts that held (a broken one panics instead) and the
/// ones that did not apply to the store under test.
///
/// `Display` lists both, one per line, for a test that wants to print it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    passed: Vec<&'static str>,
    skipped: Vec<Skipped>,
}

impl Report {
    /// The names of the contracts that were checked and held, in the order they ran.
    pub fn passed(&self) -> &[&'static str] {
        &self.passed
    }

    /// The contracts that were not checked, with the reason.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    pub(crate) fn pass(&mut self, contract: Contract) {
        self.passed.push(contract.name());
    }

    pub(crate) fn skip(&mut self, contract: &'static str, reason: &'static str) {
        self.skipped.push(Skipped { contract, reason });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for name in &self.passed {
            writeln!(f, "passed:  {name}")?;
        }
        for skipped in &self.skipped {
            writeln!(f, "skipped: {} ({})", skipped.contract, skipped.reason)?;
        }
        Ok(())
    }
}
