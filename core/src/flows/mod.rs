//! Multi-step logic as plain state the host advances: OAuth token reuse, retry advice,
//! a user's attempts (journey) and audit records. Nothing here reads a clock: every method
//! that needs time takes `now` in Unix milliseconds.
