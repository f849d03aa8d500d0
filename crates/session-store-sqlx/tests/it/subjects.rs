//! Sessions per subject.
