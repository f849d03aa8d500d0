//! Sessions per subject: a binding as the `subject` and `binding` columns hold it, read back
//! with every check, and the rows of a subject's listing as [`BoundSession`]s.

use session_core::store::{Key, Record, StoreError, StoreErrorKind};
use session_core::subject::{Binding, BoundSession, Handle, MAX_SUBJECT_BYTES};

use crate::common::{Damage, timestamp, warn_damaged};

/// A bound record's binding as its row holds it.
pub(crate) struct Bound {
    /// [`subject_key`](session_core::subject::subject_key) of the subject: what the index holds, never the subject itself.
    pub(crate) subject: [u8; 32],
    /// The binding as JSON (the subject, the handle, the time of the login, the client).
    pub(crate) json: Vec<u8>,
}

impl Bound {
    /// The columns of `record`'s binding; `None` for an unbound record (nothing computed).
    pub(crate) fn of(record: &Record) -> Result<Option<Bound>, StoreError> {
        let Some(binding) = record.binding.as_deref() else {
            return Ok(None);
        };
        // Strings, a handle and an integer: serializing cannot fail, and is not assumed not to.
        let json = serde_json::to_vec(binding)
            .map_err(|error| StoreError::new(StoreErrorKind::Backend, error))?;
        Ok(Some(Bound {
            subject: *binding.subject_key().digest(),
            json,
        }))
    }
}

/// The binding in a row's `subject` and `binding` columns: `None` for an unbound session (no
/// binding; the `subject` column is then not read). A binding that does not parse, is not a
/// binding core could have made (an empty or long subject, a handle of another form), or is not
/// filed under its own subject (so that a listing of its subject would miss it) is damage.
pub(crate) fn decode_binding(
    subject: Option<&[u8]>,
    json: Option<&[u8]>,
) -> Result<Option<Binding>, Damage> {
    let Some(json) = json else {
        return Ok(None);
    };
    let binding: Binding = serde_json::from_slice(json).map_err(|_| Damage::Binding)?;
    let sane = !binding.subject.is_empty()
        && binding.subject.len() <= MAX_SUBJECT_BYTES
        && Handle::parse(binding.handle.as_str()).is_some();
    if !sane || subject != Some(binding.subject_key().digest().as_slice()) {
        return Err(Damage::Binding);
    }
    Ok(Some(binding))
}

/// The rows of a listing (`id`, `binding`, `created`, `last_active`, `expires`, all live and
/// filed under `digest`, a subject's [`subject_key`](session_core::subject::subject_key)) as that subject's sessions. A row that cannot be read is left out,
/// with a warning: [`load`](crate::shared::Backend::load) treats it as no session too, so no
/// usable session hides from the listing.
pub(crate) fn decode_listing<R>(rows: &[R], digest: &Key) -> Vec<BoundSession>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut listed = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.try_get::<Vec<u8>, _>(0).ok();
        let key = id.and_then(|id| <[u8; 32]>::try_from(id).ok().map(Key::from_digest));
        let Some(key) = key else {
            tracing::warn!("a row without a valid id left out of a subject's listing");
            continue;
        };
        match decode_listed(row, key, digest.digest()) {
            Ok(bound) => listed.push(bound),
            Err(reason) => warn_damaged(&key, &reason),
        }
    }
    listed
}

/// One listed row, checked as `load` checks it.
fn decode_listed<R>(row: &R, key: Key, digest: &[u8; 32]) -> Result<BoundSession, Damage>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let column = |_: sqlx::Error| Damage::Column;
    let json: Option<Vec<u8>> = row.try_get(1).map_err(column)?;
    let times: [i64; 3] = [
        row.try_get(2).map_err(column)?,
        row.try_get(3).map_err(column)?,
        row.try_get(4).map_err(column)?,
    ];
    let [Some(created), Some(last_active), Some(expires)] = times.map(timestamp) else {
        return Err(Damage::Times);
    };
    // No binding (only the `subject` column set) is damage here: the row is listed by it.
    let binding = decode_binding(Some(digest), json.as_deref())?.ok_or(Damage::Binding)?;
    let mut record = Record::new(created, expires);
    record.last_active = last_active;
    record.binding = Some(Box::new(binding));
    BoundSession::of(key, &record).ok_or(Damage::Binding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::store::Timestamp;
    use session_core::subject::{ClientInfo, subject_key};

    fn binding(subject: &str) -> Binding {
        let info = ClientInfo::new().user_agent("ua").address("192.0.2.0/24");
        Binding::new(subject, info, Timestamp::from_millis(5)).expect("binding")
    }

    #[test]
    fn bindings_round_trip_and_damage_is_named() {
        let mut record = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(9));
        assert!(Bound::of(&record).expect("unbound").is_none());
        record.binding = Some(Box::new(binding("alice")));
        let bound = Bound::of(&record).expect("encode").expect("bound");
        assert_eq!(bound.subject, *subject_key("alice").digest());
        let back = decode_binding(Some(&bound.subject), Some(&bound.json)).expect("decode");
        assert_eq!(back.as_ref(), record.binding.as_deref());
        assert_eq!(decode_binding(Some(&bound.subject), None), Ok(None));
        let other = subject_key("bob");
        let damaged = [
            decode_binding(Some(other.digest()), Some(&bound.json)),
            decode_binding(None, Some(&bound.json)),
            decode_binding(Some(&bound.subject), Some(b"{")),
            decode_binding(Some(&bound.subject), Some(b"null")),
        ];
        for outcome in damaged {
            assert_eq!(outcome, Err(Damage::Binding));
        }
        let text = String::from_utf8(bound.json).expect("JSON");
        let forged = text.replacen("\"handle\":\"", "\"handle\":\"!", 1);
        let long = text.replacen("\"alice\"", &format!("\"{}\"", "a".repeat(257)), 1);
        for json in [forged, long] {
            assert_eq!(
                decode_binding(Some(&bound.subject), Some(json.as_bytes())),
                Err(Damage::Binding),
                "{json}"
            );
        }
    }
}
