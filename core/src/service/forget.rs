//! `forget`: one user's data erased (GDPR art. 17): at iProov first when asked (the users
//! API's `DELETE /users/{id}`, which needs OAuth credentials), then every journey, audit
//! record and limit record of the user in the store, in one transaction. iProov first: if its
//! deletion fails, nothing is erased here and the caller can ask again; the other way round a
//! failure at iProov would leave a user the service no longer knows about.
//!
//! After it, the user's journey ids answer "no such journey", and a spool entry of one of
//! them is dropped when replayed (its journey is gone).

use super::pump::{Action, Ctx, Event, unexpected};
use crate::driver::INTERACTIVE_MAX_WAIT_MS;
use crate::error::Error;
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use serde_json::{Value, json};

struct ForgetRequest {
    user_id: String,
    at_iproov: bool,
    interactive: bool,
    // What every request may carry; a forget keeps nothing in a spool and waits for nothing.
    wait_ms: u64,
    spool: bool,
}
json_object! {
    ForgetRequest, deny_unknown_fields;
    req user_id, opt at_iproov, opt interactive, opt wait_ms, opt spool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    Call,
    Forget,
}

pub(super) struct ForgetJob {
    req: ForgetRequest,
    pending: Pending,
    /// What iProov said: `deleted`, `absent`, or `not_asked`.
    at_iproov: Option<&'static str>,
}

impl ForgetJob {
    pub(super) fn new(fields: &Value) -> Result<Self, Error> {
        let req: ForgetRequest = from_value("request", fields)?;
        let _ = (req.wait_ms, req.spool);
        crate::validation::check_user_id("user_id", &req.user_id)?;
        Ok(Self {
            req,
            pending: Pending::Nothing,
            at_iproov: None,
        })
    }

    pub(super) fn next(&mut self, ctx: &Ctx<'_>, event: Option<Event>, _now: u64) -> Action {
        let failed = |error: Error| Action::Failed { error, log: None };
        match (
            std::mem::replace(&mut self.pending, Pending::Nothing),
            event,
        ) {
            (Pending::Nothing, None) => {}
            (Pending::Call, Some(Event::Called { result, error, .. })) => {
                if result.is_some() {
                    self.at_iproov = Some("deleted");
                } else {
                    let error = error
                        .as_ref()
                        .and_then(|e| {
                            crate::flows::json::error_from_json(crate::Operation::DeleteUser, e)
                                .ok()
                        })
                        .unwrap_or_else(|| {
                            Error::invalid_input(
                                "event",
                                "a call outcome needs a result or an error",
                            )
                        });
                    // iProov documents an unknown user as 400 `no_user` or `invalid_user_id`.
                    if !matches!(error.code(), "no_user" | "invalid_user_id") {
                        return failed(error);
                    }
                    self.at_iproov = Some("absent");
                }
            }
            (
                Pending::Forget,
                Some(Event::Forgotten {
                    journeys,
                    audit_records,
                }),
            ) => {
                return Action::Done {
                    answer: json!({
                        "journeys": journeys,
                        "audit_records": audit_records,
                        "at_iproov": self.at_iproov.unwrap_or("not_asked"),
                    }),
                };
            }
            (Pending::Forget, Some(Event::StoreFailed)) => {
                return failed(Error::store_unavailable("forget", None, None).with_message(match self.at_iproov {
                    Some("deleted") => {
                        "the journey store failed (forget) after iProov deleted the user: nothing was \
                         erased from the store; ask again (iProov then answers that the user is absent)"
                    }
                    _ => "the journey store failed (forget): nothing was erased from it; ask again",
                }));
            }
            (_, event) => return unexpected(&event),
        }
        if self.req.at_iproov && self.at_iproov.is_none() {
            if ctx.config.oauth_username().is_none() && ctx.config.access_token().is_none() {
                return failed(Error::invalid_input(
                    "at_iproov",
                    "erasing the user at iProov needs the users API: give the config OAuth \
                     credentials (oauth_username, oauth_password) or an access token",
                ));
            }
            self.pending = Pending::Call;
            return Action::Call {
                operation: crate::Operation::DeleteUser.name(),
                input: json!({"user_id": self.req.user_id}),
                attempt: None,
                max_wait_ms: self.req.interactive.then_some(INTERACTIVE_MAX_WAIT_MS),
            };
        }
        self.pending = Pending::Forget;
        Action::Forget {
            user_id: self.req.user_id.clone(),
        }
    }
}
