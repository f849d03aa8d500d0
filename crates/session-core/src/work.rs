//! The mutable per-request state behind a [`Session`](crate::Session): what was loaded, which keys
//! changed, and the per-request flags.

use crate::{Changes, CookieOptions, Id, Key, Lifetime, Record, Timestamp};

/// The mutable per-request state behind a [`Session`].
#[derive(Default)]
pub(crate) struct Working {
    pub(crate) accessed: bool,
    pub(crate) candidates: IdList,
    pub(crate) loaded: Option<Loaded>,
    pub(crate) changed: Vec<String>,
    pub(crate) cleared: bool,
    pub(crate) lifetime_change: Option<Option<Lifetime>>,
    pub(crate) expire: bool,
    pub(crate) cycle: bool,
    pub(crate) skip: bool,
    /// The client sent something in the id's place (valid or not).
    pub(crate) client_sent_id: bool,
    /// `save` wrote the session during the request: its id must still be sent to the client.
    pub(crate) deliver_pending: bool,
    /// The engine has committed this session; later commits do nothing.
    pub(crate) committed: bool,
    /// The store reported the session gone (ended elsewhere) during the request: nothing of it may
    /// be written again (no removal is sent either: it could race with a newer cookie).
    pub(crate) ended: bool,
    /// A client-side session was opened with an older key: seal it again with the current one.
    pub(crate) reseal: bool,
    /// This response's own cookie attributes.
    pub(crate) cookie_options: Option<Box<CookieOptions>>,
    /// Late store: changes made after the response head are committed when the body ends.
    pub(crate) late: bool,
    /// The late commit has run (or the head commit wrote nothing, so the late one must not).
    pub(crate) late_done: bool,
    /// A change after the commit that will not be stored has been reported once.
    pub(crate) warned: bool,
}

/// The candidate ids of a request, at most [`IdList::CAPACITY`], held inline (no allocation).
#[derive(Default)]
pub(crate) struct IdList {
    ids: [Option<Id>; IdList::CAPACITY],
}

impl IdList {
    /// At most this many candidate ids are tried per request (Plack takes one); more is an attack
    /// that would cost a store read each.
    pub(crate) const CAPACITY: usize = 4;

    /// Adds `id`; `false` (and `id` dropped) when the list is full.
    pub(crate) fn push(&mut self, id: Id) -> bool {
        match self.ids.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(id);
                true
            }
            None => false,
        }
    }

    /// The id at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Id> {
        self.ids.get(index)?.as_ref()
    }

    /// The ids, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Id> {
        self.ids.iter().map_while(Option::as_ref)
    }
}

/// The session's data once loaded: `current` is `None` for a new session not yet stored.
pub(crate) struct Loaded {
    pub(crate) current: Option<(Id, Key)>,
    pub(crate) record: Record,
}

impl Working {
    pub(crate) fn loaded(&mut self) -> &mut Loaded {
        self.loaded.get_or_insert_with(|| Loaded {
            current: None,
            record: Record::new(Timestamp::default(), Timestamp::default()),
        })
    }

    /// Records a lifetime change, keeping the loaded record's lifetime current for expiry maths.
    pub(crate) fn change_lifetime(&mut self, lifetime: Option<Lifetime>) {
        self.accessed = true;
        self.note_change("the lifetime");
        self.lifetime_change = Some(lifetime);
        if let Some(loaded) = self.loaded.as_mut() {
            loaded.record.lifetime = lifetime;
        }
    }

    /// Reports (once per request, as a `tracing` warning) a change made after the commit that will
    /// not be stored: the response head has gone, and late store is off (or its commit has run).
    pub(crate) fn note_change(&mut self, what: &'static str) {
        if self.committed
            && (!self.late || self.late_done)
            && !std::mem::replace(&mut self.warned, true)
        {
            tracing::warn!(
                change = what,
                "a session change made after the response was committed is not stored; \
                 call Session::late_store() before the response head to keep changes made \
                 while the body streams"
            );
        }
    }

    pub(crate) fn mark_changed(&mut self, key: &str) {
        self.note_change("a value");
        if !self.changed.iter().any(|k| k == key) {
            self.changed.push(key.to_owned());
        }
    }

    /// Takes this request's key-level changes, ready for [`Store::apply`](crate::Store::apply).
    pub(crate) fn take_changes(&mut self, last_active: Timestamp, expires: Timestamp) -> Changes {
        let changed = std::mem::take(&mut self.changed);
        let data = self.loaded.as_ref().map(|l| &l.record.data);
        let updates = changed
            .into_iter()
            .map(|key| {
                let value = data.and_then(|d| d.get(&key)).cloned();
                (key, value)
            })
            .collect();
        Changes {
            clear: std::mem::take(&mut self.cleared),
            updates,
            last_active,
            expires,
            lifetime: self.lifetime_change.take(),
        }
    }

    /// Whether anything was written that the store does not have yet.
    pub(crate) fn is_dirty(&self) -> bool {
        !self.changed.is_empty() || self.cleared || self.lifetime_change.is_some()
    }
}
