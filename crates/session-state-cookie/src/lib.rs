//! The session id in a cookie: CookieState, validated when built, with the removal cookie mirroring the live one.
