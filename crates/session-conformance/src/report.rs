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
    /// The store keeps nothing (such as `NullStore`).
    ///
    /// `create` pretends to store, `load` finds nothing, so every request starts a new, empty
    /// session.
    KeepsNothing,
    /// The client keeps the sessions, such as a sealed cookie.
    ///
    /// An engine built with [`Engine::client_side`](session_core::Engine::client_side).
    ///
    /// The scenarios run as with [`Persistent`](Expect::Persistent), except that:
    ///
    /// - the value the client carries changes with every write, so the kit follows the latest
    ///   value each response gives, and compares sessions by the id sealed inside
    ///   ([`Session::id`](session_core::Session::id)), never by the value;
    /// - a sealed session cannot be revoked: Plack's step 7 (the expired id, replayed, is not
    ///   adopted) cannot hold. The kit checks the opposite instead (the replayed value still opens
    ///   as the same session, with its data) and lists step 7 under
    ///   [`Report::skipped`] with the reason.
    ///
    /// [`check_store_with`](crate::check_store_with) checks nothing with it: every `Store`
    /// contract is reported as skipped, with the reason (see the crate docs for the list).
    ClientSide,
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

/// What a kit function checked.
///
/// The contracts that held (a broken one panics instead) and the ones that did not apply to the
/// store under test.
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

    /// Panics, listing the report, unless every contract was checked: nothing skipped. For a
    /// store meant to keep every promise (atomic applies, an index per subject), this is the one
    /// assertion its conformance test needs: a contract that ran either held or panicked.
    #[track_caller]
    pub fn assert_nothing_skipped(&self) {
        assert!(
            self.skipped.is_empty(),
            "session-conformance: contracts were skipped:\n{self}"
        );
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
