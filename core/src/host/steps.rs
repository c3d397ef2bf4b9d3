//! The JSON step machines as text: flows ([`crate::flows::json`]) and the web endpoints'
//! decisions ([`crate::web`]); JSON in, JSON out. (The journey service: [`super::journey`].)

use super::{json_arg, to_text};
use crate::error::Error;
use crate::flows::json as flows;
use serde_json::json;

/// The initial state of a flow (`flows::json::new_state`), as JSON.
pub fn flow_new(flow: &str, options_json: &str) -> Result<String, Error> {
    Ok(to_text(&flows::new_state(
        flow,
        &json_arg("options", options_json)?,
    )?))
}

/// One flow step (`flows::json::run_step`): `{"state": ..., "output": ...}` as JSON. On an
/// error the caller keeps its old state.
pub fn flow_step(
    flow: &str,
    config_json: &str,
    state_json: &str,
    step_json: &str,
) -> Result<String, Error> {
    let config = json_arg("config", config_json)?;
    let state = json_arg("state", state_json)?;
    let step = json_arg("step", step_json)?;
    let out = flows::run_step(flow, &config, &state, &step)?;
    Ok(to_text(&json!({"state": out.state, "output": out.output})))
}

/// A decision of the browser-facing endpoints ([`crate::web::decide`]) over JSON text: `what`
/// names it (`table`, `request`, `input`, `answer`, `error`, `waits`, `emulator`, `config`),
/// `facts_json` is its facts (`""`: none). Gives the decision as JSON; fails with
/// `invalid_input` for an unknown `what` or facts that are not JSON.
pub fn web_decide(what: &str, facts_json: &str) -> Result<String, Error> {
    Ok(to_text(&crate::web::decide(
        what,
        &json_arg("facts", facts_json)?,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::json;

    #[test]
    fn a_web_decision_as_text() {
        let table = json(&web_decide("table", "").unwrap());
        assert_eq!(table["codes"][0]["code"], "bad_request");
        assert_eq!(web_decide("input", "{").unwrap_err().field(), Some("facts"));
        assert_eq!(web_decide("x", "").unwrap_err().field(), Some("what"));
    }
}
