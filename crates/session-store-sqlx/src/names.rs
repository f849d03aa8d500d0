//! Table and schema names: validated as identifiers when the store is built, then quoted into
//! the statements once. No statement is ever built from request data.

use crate::error::SqlStoreError;

/// The sessions table's name unless the builder says otherwise.
pub const DEFAULT_TABLE: &str = "sessions";

/// The longest table name accepted: the names derived from it (`<table>_values`,
/// `<table>_migrations`, `<table>_change`, ...) must fit PostgreSQL's 63-byte identifiers.
pub const MAX_TABLE_NAME: usize = 40;

/// The longest schema name accepted (PostgreSQL's limit).
const MAX_SCHEMA_NAME: usize = 63;

/// Checks `name` as an identifier: an ASCII letter or `_`, then ASCII letters, digits and `_`,
/// at most `max` bytes.
pub(crate) fn check(what: &'static str, name: &str, max: usize) -> Result<(), SqlStoreError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && rest_ok && name.len() <= max {
        Ok(())
    } else {
        Err(SqlStoreError::InvalidName {
            what,
            name: name.to_owned(),
            max,
        })
    }
}

/// The quoted, qualified names of everything a store creates.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// The table name as given (unquoted), for messages and lock keys.
    pub(crate) plain: String,
    /// The sessions table.
    pub(crate) sessions: String,
    /// The values table: a row per session value.
    pub(crate) values: String,
    /// The schema version table.
    pub(crate) migrations: String,
    /// A name derived from the table's, qualified and quoted: `<table>_<suffix>`.
    prefix: (Option<String>, String),
}

impl Names {
    /// Validates `schema` and `table` and derives every name from them.
    pub(crate) fn new(schema: Option<&str>, table: &str) -> Result<Self, SqlStoreError> {
        if let Some(schema) = schema {
            check("schema", schema, MAX_SCHEMA_NAME)?;
        }
        check("table", table, MAX_TABLE_NAME)?;
        let prefix = (schema.map(str::to_owned), table.to_owned());
        let mut names = Names {
            plain: match schema {
                Some(schema) => format!("{schema}.{table}"),
                None => table.to_owned(),
            },
            sessions: String::new(),
            values: String::new(),
            migrations: String::new(),
            prefix,
        };
        names.sessions = names.derived("");
        names.values = names.derived("_values");
        names.migrations = names.derived("_migrations");
        Ok(names)
    }

    /// `"schema"."<table><suffix>"` (or `"<table><suffix>"` without a schema).
    pub(crate) fn derived(&self, suffix: &str) -> String {
        match &self.prefix.0 {
            Some(schema) => format!("\"{schema}\".\"{}{suffix}\"", self.prefix.1),
            None => format!("\"{}{suffix}\"", self.prefix.1),
        }
    }

    /// `"<table><suffix>"`, never qualified (index names, which follow their table's schema).
    pub(crate) fn local(&self, suffix: &str) -> String {
        format!("\"{}{suffix}\"", self.prefix.1)
    }

    /// The schema, quoted, if one was given.
    pub(crate) fn schema(&self) -> Option<String> {
        self.prefix.0.as_ref().map(|schema| format!("\"{schema}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        for good in ["sessions", "_s", "S1_x", &"a".repeat(MAX_TABLE_NAME)] {
            assert!(check("table", good, MAX_TABLE_NAME).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "a\"b",
            "a;drop table x",
            "é",
            "a.b",
            &"a".repeat(MAX_TABLE_NAME + 1),
        ] {
            let error = check("table", bad, MAX_TABLE_NAME).expect_err(bad);
            assert!(error.to_string().contains("table name"), "{error}");
        }
    }

    #[test]
    fn names_are_quoted_and_qualified() {
        let names = Names::new(Some("app"), "sess").expect("valid");
        assert_eq!(names.sessions, "\"app\".\"sess\"");
        assert_eq!(names.values, "\"app\".\"sess_values\"");
        assert_eq!(names.migrations, "\"app\".\"sess_migrations\"");
        assert_eq!(names.local("_expires"), "\"sess_expires\"");
        assert_eq!(names.plain, "app.sess");
        let bare = Names::new(None, DEFAULT_TABLE).expect("valid");
        assert_eq!(bare.sessions, "\"sessions\"");
        assert!(bare.schema().is_none());
        assert!(Names::new(Some("x;y"), "t").is_err());
    }
}
