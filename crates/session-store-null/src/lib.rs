//! NullStore: a session store that keeps nothing.
