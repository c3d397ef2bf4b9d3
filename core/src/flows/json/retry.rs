//! The `retry` flow over JSON: advise.

use super::{Step, StepOutput, WireResponse};
use crate::error::Error;
use crate::flows::retry::{Observed, RetryPolicy};
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use crate::operation::Operation;
use crate::operation::from_json_value as from_value;
use serde_json::Value;

struct AdviseInput {
    operation: String,
    attempt: u32,
    jitter: f64,
    failure: Option<String>,
}
json_object! {
    AdviseInput, deny_unknown_fields;
    req operation, req attempt, req jitter, opt failure,
}

pub(super) fn step(state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let policy: RetryPolicy = from_value("state", state)?;
    if step.action != "advise" {
        return Err(step.unknown_action("retry", "advise"));
    }
    let now = step.now()?;
    let input: AdviseInput = from_value("input", &step.input)?;
    let op = Operation::parse(&input.operation)?;
    let response = step
        .response
        .as_ref()
        .map(WireResponse::to_owned_response)
        .transpose()?;
    let observed = match (input.failure.as_deref(), &response) {
        (Some("failed_before_sending"), None) => Observed::FailedBeforeSending,
        (Some("may_have_reached_server"), None) => Observed::MayHaveReachedServer,
        (None, Some(r)) => Observed::Response(r.view()),
        _ => {
            return Err(Error::invalid_input(
                "failure",
                "give either a response or failure: failed_before_sending | may_have_reached_server",
            ));
        }
    };
    let advice = policy.advise(op, input.attempt, observed, now, input.jitter)?;
    Ok(StepOutput {
        state: to_json_value(&policy),
        output: advice.to_json(),
    })
}
