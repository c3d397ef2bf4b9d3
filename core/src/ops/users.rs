//! The users (management) API: activate, suspend, get, update, delete.
//!
//! These need an OAuth access token. The build functions describe the request without it;
//! the token manager (`flows::token_manager`) adds `Authorization: Bearer` and counts the use,
//! or call [`Request::authorize_bearer`] yourself.

use crate::config::Config;
use crate::decode::parse_json;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::ops::{bare_request, json_request, path_segment};
use crate::tolerant::lowercase;
use crate::validation::{NAME_MAX_LEN, check_user_id, normalise_date_time};
use serde::Serialize;

/// Input of activate and suspend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStateInput {
    /// The user to change.
    pub user_id: String,
    /// When the change takes effect (UTC, `2024-05-01T12:30:00.000Z`); iProov: now when absent.
    pub date_time: Option<String>,
}
json_object! {
    UserStateInput, deny_unknown_fields;
    req user_id, opt date_time,
}

/// Input of get and delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInput {
    /// The user.
    pub user_id: String,
}
json_object! {
    UserInput, deny_unknown_fields;
    req user_id,
}

/// Input of update: at least one of `new_user_id` and `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateUserInput {
    /// The user to update (goes in the path).
    pub user_id: String,
    /// A new user_id (sent as the body's `user_id`).
    pub new_user_id: Option<String>,
    /// The display name shown to the user during capture.
    pub name: Option<String>,
}
json_object! {
    UpdateUserInput, deny_unknown_fields;
    req user_id, opt new_user_id, opt name,
}

fn user_path(user_id: &str, suffix: &str) -> Result<String, Error> {
    check_user_id("user_id", user_id)?;
    Ok(["/users/", &path_segment("user_id", user_id)?, suffix].concat())
}

/// A bodyless request to `/users/{user_id}`.
fn bare_user_request(config: &Config, method: Method, user_id: &str) -> Result<Request, Error> {
    check_user_id("user_id", user_id)?;
    let segment = path_segment("user_id", user_id)?;
    Ok(bare_request(config, method, &["/users/", &segment]))
}

#[derive(Serialize)]
struct WireState {
    #[serde(skip_serializing_if = "Option::is_none")]
    date_time: Option<String>,
}

fn build_state(config: &Config, input: &UserStateInput, suffix: &str) -> Result<Request, Error> {
    let path = user_path(&input.user_id, suffix)?;
    let date_time = input
        .date_time
        .as_deref()
        .map(normalise_date_time)
        .transpose()?;
    json_request(config, Method::Post, &path, &WireState { date_time })
}

/// Describes `POST /users/{user_id}/activate` (scope `user-write-status`). Fails with
/// `invalid_input` on a bad user_id or date_time.
pub fn build_activate_user(config: &Config, input: &UserStateInput) -> Result<Request, Error> {
    build_state(config, input, "/activate")
}

/// Describes `POST /users/{user_id}/suspend` (scope `user-write-status`). A suspended user
/// gets no verify tokens until activated. Fails like [`build_activate_user`].
pub fn build_suspend_user(config: &Config, input: &UserStateInput) -> Result<Request, Error> {
    build_state(config, input, "/suspend")
}

/// Describes `GET /users/{user_id}` (scope `user-read`). Fails with `invalid_input` on a bad
/// user_id.
pub fn build_get_user(config: &Config, input: &UserInput) -> Result<Request, Error> {
    bare_user_request(config, Method::Get, &input.user_id)
}

/// Describes `DELETE /users/{user_id}` (scope `user-write`). iProov cannot investigate fraud
/// on a deleted user afterwards; use it for your retention policy. Fails like
/// [`build_get_user`].
pub fn build_delete_user(config: &Config, input: &UserInput) -> Result<Request, Error> {
    bare_user_request(config, Method::Delete, &input.user_id)
}

#[derive(Serialize)]
struct WireUpdate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// Describes `PUT /users/{user_id}` (scope `user-write`). Fails with `invalid_input` on a bad
/// user_id or new_user_id, a blank or over-long name, or when neither is given (field
/// `new_user_id`).
pub fn build_update_user(config: &Config, input: &UpdateUserInput) -> Result<Request, Error> {
    let path = user_path(&input.user_id, "")?;
    if let Some(new_id) = &input.new_user_id {
        check_user_id("new_user_id", new_id)?;
    }
    if let Some(name) = &input.name {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("name", "must not be blank"));
        }
        if name.chars().count() > NAME_MAX_LEN {
            return Err(Error::invalid_input(
                "name",
                format!("is longer than {NAME_MAX_LEN} characters"),
            ));
        }
    }
    if input.new_user_id.is_none() && input.name.is_none() {
        return Err(Error::invalid_input(
            "new_user_id",
            "give a new_user_id, a name, or both",
        ));
    }
    let body = WireUpdate {
        user_id: input.new_user_id.as_deref(),
        name: input.name.as_deref(),
    };
    json_request(config, Method::Put, &path, &body)
}

/// A user as iProov reports it (`UserResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user's id.
    pub user_id: String,
    /// The display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `active`, `inactive`, `suspended` or `deleted` (lowercased; iProov sends either case).
    pub status: String,
    /// When the user was (or will be) suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension_date: Option<String>,
    /// When the user was (or will be) activated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_date: Option<String>,
}
json_object! {
    User, allow_unknown_fields;
    req user_id, opt name, req status with lowercase: String, opt suspension_date,
    opt activation_date,
}

/// Reads the answer of any users call. 400 `no_user`/`invalid_user_id` (unknown user), 401
/// `invalid_oauth`/`token_quota_exceeded` and 403 (missing scope) are errors.
pub fn parse_user(config: &Config, response: &Response<'_>) -> Result<User, Error> {
    parse_json(config, response)
}
