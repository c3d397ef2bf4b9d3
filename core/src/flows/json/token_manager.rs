//! The `token_manager` flow over JSON: prepare, accept_token, on_response, status, export,
//! restore, forget_token.

use super::{Step, StepOutput, json_config, parse_config, request_json};
use crate::error::Error;
use crate::flows::token_manager::{ResponseCheck, TokenManager, TokenStep};
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use crate::operation::from_json_value as from_value;
use crate::operation::{self, Operation};
use serde_json::{Value, json};

struct OperationInput {
    operation: String,
    input: Value,
}
json_object! {
    OperationInput, deny_unknown_fields;
    req operation, opt input,
}

struct ExportInput {
    include_token: bool,
}
json_object! {
    ExportInput, deny_unknown_fields;
    opt include_token,
}

struct RestoreInput {
    state: Value,
}
json_object! {
    RestoreInput, deny_unknown_fields;
    req state,
}

pub(super) fn step(config: &Value, state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let mut manager = TokenManager::from_json(state)?;
    let output = match step.action.as_str() {
        "prepare" => {
            let now = step.now()?;
            let input: OperationInput = from_value("input", &step.input)?;
            let op = Operation::parse(&input.operation)?;
            let cfg = json_config(config)?;
            let mut request = operation::build_unauthorized(op, &cfg.config, &input.input)?;
            match manager.prepare(&cfg.config, op, &mut request, now)? {
                TokenStep::Authorized { uses } => {
                    json!({
                        "action": "authorized",
                        "uses": uses,
                        "request": request_json(&request),
                        "redacted": to_json_value(&request.redacted()),
                    })
                }
                TokenStep::NeedToken(token_request) => {
                    json!({
                        "action": "need_token",
                        "token_request": request_json(&token_request),
                        "redacted": to_json_value(&token_request.redacted()),
                    })
                }
            }
        }
        "accept_token" => {
            let now = step.now()?;
            let response = step.response()?;
            let cfg = parse_config(config)?;
            manager.accept_token(&cfg, &response.view(), now)?;
            to_json_value(&manager.status(now))
        }
        "on_response" => {
            let response = step.response()?;
            let cfg = parse_config(config)?;
            match manager.on_response(&cfg, &response.view()) {
                ResponseCheck::Parse => json!({"action": "parse"}),
                ResponseCheck::RetryWithNewToken => json!({"action": "retry_with_new_token"}),
                ResponseCheck::Fail(error) => json!({"action": "fail", "error": error.to_json()}),
            }
        }
        "status" => to_json_value(&manager.status(step.now()?)),
        "export" => {
            let input: ExportInput = from_value("input", &step.input)?;
            manager.to_json(input.include_token)
        }
        "restore" => {
            let input: RestoreInput = from_value("input", &step.input)?;
            manager = TokenManager::from_json(&input.state)?;
            json!({"has_token": manager.status(0).has_token})
        }
        "forget_token" => {
            manager.forget_token();
            json!({"has_token": false})
        }
        _ => {
            return Err(step.unknown_action(
                "token_manager",
                "prepare, accept_token, on_response, status, export, restore, forget_token",
            ));
        }
    };
    Ok(StepOutput {
        state: manager.to_json(true),
        output,
    })
}
