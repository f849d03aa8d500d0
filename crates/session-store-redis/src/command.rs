//! Script calls as single `EVALSHA` commands, and key names written straight into them.
//!
//! The redis crate's `ScriptInvocation` copies every argument into a vector of its own before
//! copying it again into the command; building the command directly writes each one once, which
//! matters on the path every request takes.

use std::io::Write as _;

use redis::ToRedisArgs;
use redis::aio::ConnectionLike;
use redis::{Cmd, ErrorKind, FromRedisValue, RedisResult, RedisWrite, Script, ServerErrorKind};
use session_core::store::Key;

/// A session's key name, the prefix and the key's hex digest, written as one argument.
pub(crate) struct KeyName<'a> {
    /// The store's key prefix.
    pub(crate) prefix: &'a str,
    /// The session's key.
    pub(crate) key: &'a Key,
}

impl ToRedisArgs for KeyName<'_> {
    fn write_redis_args<W: RedisWrite + ?Sized>(&self, out: &mut W) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.key.digest()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        let mut arg = out.writer_for_next_arg();
        // Writes to the command's own buffer: they cannot fail.
        let _ = arg.write_all(self.prefix.as_bytes());
        let _ = arg.write_all(&hex);
    }
}

/// An `EVALSHA` of `script` with `keys` keys: the keys and arguments follow.
pub(crate) fn evalsha(script: &Script, keys: usize) -> Cmd {
    evalsha_sized(script, keys, 16, 256)
}

/// [`evalsha`] for a command expected to take about `args` arguments of `bytes` bytes in all:
/// its buffers are allocated once at that size rather than grown argument by argument (which
/// cost about 240 instructions per argument).
pub(crate) fn evalsha_sized(script: &Script, keys: usize, args: usize, bytes: usize) -> Cmd {
    let mut cmd = Cmd::with_capacity(args + 3, bytes + 48);
    cmd.arg("EVALSHA").arg(script.get_hash()).arg(keys);
    cmd
}

/// Runs `cmd`, an [`evalsha`] of `script`; a server that does not know the script (first use,
/// or after a restart) gets it loaded, and the command again.
pub(crate) async fn run<T: FromRedisValue>(
    cmd: &Cmd,
    script: &Script,
    connection: &mut impl ConnectionLike,
) -> RedisResult<T> {
    match cmd.query_async(connection).await {
        Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
            script.load_async(connection).await?;
            cmd.query_async(connection).await
        }
        answer => answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_the_prefix_and_the_hex_digest() {
        let key = Key::from_digest(std::array::from_fn(|n| u8::try_from(n * 8).unwrap_or(0)));
        let name = KeyName {
            prefix: "app:",
            key: &key,
        };
        assert_eq!(
            name.to_redis_args(),
            [format!("app:{}", key.to_hex()).into_bytes()]
        );
    }
}
