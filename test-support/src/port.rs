//! Free loopback ports.

/// A loopback port that was free a moment ago.
///
/// The port is released before this returns, so another process may take it
/// before the caller binds it; the callers bind it right away, and tests
/// that must not race use `127.0.0.1:0` instead.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
