//! The `audit` flow over JSON: record.

use super::{NoOptions, Step, StepOutput, error_from_json, json_config};
use crate::Config;
use crate::error::Error;
use crate::flows::audit::{AuditContext, AuditRecord};
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use crate::operation::{self, JsonConfig, Operation};
use crate::region::Region;
use serde_json::{Value, json};

struct RecordInput {
    operation: String,
    user_id: Option<String>,
    token: Option<String>,
    attempt: Option<u32>,
    include_frame: bool,
    result: Option<Value>,
    error: Option<Value>,
}
json_object! {
    RecordInput, deny_unknown_fields;
    req operation, opt user_id, opt token, opt attempt, opt include_frame, opt result, opt error,
}

pub(super) fn step(config: &Value, state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let _: NoOptions = from_value("state", state)?;
    if step.action != "record" {
        return Err(step.unknown_action("audit", "record"));
    }
    let now = step.now()?;
    let input: RecordInput = from_value("input", &step.input)?;
    let op = Operation::parse(&input.operation)?;
    let context = AuditContext {
        user_id: input.user_id,
        token: input.token,
        attempt: input.attempt,
        include_frame: input.include_frame,
    };
    let parsed = if config.is_null() {
        None
    } else {
        Some(json_config(config)?)
    };
    let record = match (&input.result, &input.error, &step.response) {
        (Some(result), None, None) => AuditRecord::success(op, &context, result, now),
        (None, Some(error), None) => {
            AuditRecord::failure(op, &context, &error_from_json(op, error)?, now)
        }
        (None, None, Some(wire)) => {
            let response = wire.to_owned_response()?;
            let fallback = JsonConfig {
                config: Config::for_region(Region::Eu),
            };
            let cfg = parsed.as_ref().unwrap_or(&fallback);
            match operation::parse(op, cfg, &response.view()) {
                Ok(result) => AuditRecord::success(op, &context, &result, now),
                Err(error) => AuditRecord::failure(op, &context, &error, now),
            }
        }
        _ => {
            return Err(Error::invalid_input(
                "result",
                "give exactly one of input.result, input.error or the response",
            ));
        }
    };
    let record = match &parsed {
        Some(cfg) => record.redact(&cfg.config.redactor()),
        None => record,
    };
    Ok(StepOutput {
        state: json!({}),
        output: record.to_json(),
    })
}
