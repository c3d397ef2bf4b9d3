//! What a host can observe when a send fails, and what core makes of it.
//!
//! Each adapter maps its HTTP library's exceptions onto these names and decides nothing else:
//! whether iProov may have seen the request, whether to retry, and which error to raise are
//! decided here and in the retry advisor, once for every host.
//!
//! | name | the host saw | iProov may have seen the request? | error when not retried |
//! |---|---|---|---|
//! | `dns` | the host name did not resolve | no | `connection_error` |
//! | `connection_refused` | the TCP connection was refused or unreachable | no | `connection_error` |
//! | `connect_timeout` | no TCP (or proxy) connection within the deadline | no | `timeout` |
//! | `tls` | the TLS handshake failed (certificate, protocol) | no | `connection_error` |
//! | `not_written` | the connection failed before the whole request was written | no: a server cannot act on a partial request | `connection_error` |
//! | `after_written` | the connection failed (reset, closed) after the request was written, before a complete answer | yes | `connection_error` |
//! | `timeout` | the deadline passed once the request may have been written | yes | `timeout` |
//! | `aborted_before_sending` | the caller aborted before anything was sent | no | `aborted` |
//! | `aborted` | the caller aborted while the request was in flight | yes | `aborted` |
//! | `unknown` | anything else | yes (the safe assumption) | `connection_error` |
//!
//! A request that may have reached iProov is repeated only when the operation is safe to
//! repeat; a validate then gives `outcome_unknown` (see [`crate::flows::retry`]).

use crate::error::Error;

/// How a send failed, as the host observed it. See the module docs for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportFailure {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection was refused or the network was unreachable.
    ConnectionRefused,
    /// No connection within the deadline.
    ConnectTimeout,
    /// The TLS handshake failed.
    Tls,
    /// The connection failed before the whole request was written.
    NotWritten,
    /// The connection failed after the request was written, before a complete answer.
    AfterWritten,
    /// The deadline passed once the request may have been written.
    Timeout,
    /// The caller aborted before anything was sent.
    AbortedBeforeSending,
    /// The caller aborted while the request was in flight.
    Aborted,
    /// Any other failure.
    Unknown,
}

impl TransportFailure {
    /// Every failure, in the table's order.
    pub const ALL: [TransportFailure; 10] = [
        Self::Dns,
        Self::ConnectionRefused,
        Self::ConnectTimeout,
        Self::Tls,
        Self::NotWritten,
        Self::AfterWritten,
        Self::Timeout,
        Self::AbortedBeforeSending,
        Self::Aborted,
        Self::Unknown,
    ];

    /// The snake_case name hosts report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::ConnectionRefused => "connection_refused",
            Self::ConnectTimeout => "connect_timeout",
            Self::Tls => "tls",
            Self::NotWritten => "not_written",
            Self::AfterWritten => "after_written",
            Self::Timeout => "timeout",
            Self::AbortedBeforeSending => "aborted_before_sending",
            Self::Aborted => "aborted",
            Self::Unknown => "unknown",
        }
    }

    /// The failure a host names; an unknown name is [`TransportFailure::Unknown`] (the safe
    /// reading: the request may have reached iProov).
    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .unwrap_or(Self::Unknown)
    }

    /// True when iProov cannot have seen the request.
    pub fn before_sending(self) -> bool {
        matches!(
            self,
            Self::Dns
                | Self::ConnectionRefused
                | Self::ConnectTimeout
                | Self::Tls
                | Self::NotWritten
                | Self::AbortedBeforeSending
        )
    }

    /// True when the caller asked to stop: never retried.
    pub fn is_abort(self) -> bool {
        matches!(self, Self::Aborted | Self::AbortedBeforeSending)
    }

    /// The error to raise when this failure is not retried (`cause` is the host's own
    /// words, redacted by the driver).
    pub fn error(self, cause: &str) -> Error {
        match self {
            Self::ConnectTimeout => Error::timeout(format!("no connection in time ({cause})")),
            Self::Timeout => Error::timeout(cause),
            Self::AfterWritten => Error::connection_after_sending(cause),
            Self::Aborted | Self::AbortedBeforeSending => Error::aborted(cause),
            Self::Unknown => Error::connection_after_sending(cause),
            Self::Dns | Self::ConnectionRefused | Self::Tls | Self::NotWritten => {
                Error::connection(cause)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_safe() {
        for failure in TransportFailure::ALL {
            assert_eq!(TransportFailure::parse(failure.name()), failure);
        }
        let unknown = TransportFailure::parse("weird");
        assert_eq!(unknown, TransportFailure::Unknown);
        assert!(!unknown.before_sending());
    }

    #[test]
    fn errors_follow_the_table() {
        assert_eq!(
            TransportFailure::ConnectTimeout.error("x").code(),
            "timeout"
        );
        assert_eq!(
            TransportFailure::AfterWritten.error("x").code(),
            "connection_error"
        );
        assert!(
            TransportFailure::AfterWritten
                .error("reset")
                .message()
                .contains("after the request was sent")
        );
        assert_eq!(TransportFailure::Aborted.error("x").code(), "aborted");
    }
}
