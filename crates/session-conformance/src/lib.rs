//! The published test kit every session Store and State implementation runs.
