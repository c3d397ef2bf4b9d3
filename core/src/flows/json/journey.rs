//! The `journey` flow over JSON: next, token_issued, validated, validate_failed, end_attempt.

use super::{OwnedResponse, Step, StepOutput, error_from_json, parse_config};
use crate::error::Error;
use crate::flows::journey::{EndReason, Journey};
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use crate::ops::validate::parse_validate;
use serde_json::Value;

struct TokenInput {
    token: Option<String>,
    result: Option<Value>,
    error: Option<Value>,
    reason: Option<EndReason>,
}
json_object! {
    TokenInput, deny_unknown_fields;
    opt token, opt result, opt error, opt reason,
}

impl TokenInput {
    fn token(&self) -> Result<&str, Error> {
        self.token
            .as_deref()
            .ok_or_else(|| Error::invalid_input("token", "this action needs the claim token"))
    }
}

pub(super) fn step(config: &Value, state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let mut journey = Journey::from_json(state)?;
    let input: TokenInput = from_value("input", &step.input)?;
    let now = step.now()?;
    let next = match step.action.as_str() {
        "next" => journey.next(now),
        "token_issued" => match (&input.token, &step.response) {
            (Some(token), None) => journey.token_issued(token, now)?,
            (None, Some(wire)) => {
                let response = wire.to_owned_response()?;
                let cfg = parse_config(config)?;
                let claim = crate::ops::claim::parse_claim_token(&cfg, &response.view())
                    .map_err(|e| e.with_operation(journey.flow().token_operation().name()))?;
                journey.claim_issued(&claim, now)?
            }
            _ => {
                return Err(Error::invalid_input(
                    "token",
                    "give either input.token or the token response",
                ));
            }
        },
        "validated" => {
            let token = input.token()?.to_owned();
            let cfg = parse_config(config)?;
            let owned = match (&input.result, &step.response) {
                (Some(result), None) => OwnedResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: serde_json::to_vec(result).unwrap_or_default(),
                },
                (None, Some(wire)) => wire.to_owned_response()?,
                _ => {
                    return Err(Error::invalid_input(
                        "result",
                        "give either input.result or the validate response",
                    ));
                }
            };
            match parse_validate(&cfg, &owned.view()) {
                Ok(result) => journey.validated(&token, &result, now)?,
                Err(error) => journey.validate_failed(&token, &error, now)?,
            }
        }
        "validate_failed" => {
            let token = input.token()?.to_owned();
            let raw = input
                .error
                .as_ref()
                .ok_or_else(|| Error::invalid_input("error", "this action needs the error"))?;
            let error = error_from_json(journey.flow().validate_operation(), raw)?;
            journey.validate_failed(&token, &error, now)?
        }
        "end_attempt" => {
            let token = input.token()?.to_owned();
            let reason = input.reason.ok_or_else(|| {
                Error::invalid_input("reason", "expired | invalidated | abandoned")
            })?;
            journey.end_attempt(&token, reason, now)?
        }
        _ => {
            return Err(step.unknown_action(
                "journey",
                "next, token_issued, validated, validate_failed, end_attempt",
            ));
        }
    };
    Ok(StepOutput {
        state: journey.to_json(),
        output: next.to_json(),
    })
}
