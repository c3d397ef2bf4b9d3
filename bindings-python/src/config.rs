//! `Config`: core's `JsonConfig` (region or base URL, credentials, User-Agent), built once and
//! passed to every build and parse. Its `repr` never shows a secret.

use crate::convert::{opt_text, to_value};
use crate::errors::OrRaise;
use iproov_core::JsonConfig;
use iproov_core::secret::REDACTED;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

/// A client configuration. Immutable; share one per service provider.
#[pyclass(frozen, name = "Config", module = "iproov_sansio._core")]
pub struct PyConfig {
    pub(crate) json: JsonConfig,
    /// The vector-format object it was read from, for the flow driver (which takes JSON).
    /// It holds secrets and never leaves Rust.
    pub(crate) raw: Value,
}

impl PyConfig {
    pub(crate) fn from_value(py: Python<'_>, raw: Value) -> PyResult<Self> {
        let json = JsonConfig::from_json(&raw).or_raise(py)?;
        Ok(Self { json, raw })
    }
}

impl std::fmt::Debug for PyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.__repr__())
    }
}

/// A config argument: a `Config`, or a dict in the vector format (read on each call).
pub enum ConfigArg<'py> {
    /// A `Config` object.
    Native(Bound<'py, PyConfig>),
    /// A config read from a dict.
    Owned(Box<PyConfig>),
}

impl ConfigArg<'_> {
    /// The configuration.
    pub fn get(&self) -> &PyConfig {
        match self {
            Self::Native(bound) => bound.get(),
            Self::Owned(config) => config,
        }
    }
}

/// Reads a `Config` or a vector-format dict.
pub fn config_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<ConfigArg<'py>> {
    if let Ok(native) = obj.cast::<PyConfig>() {
        return Ok(ConfigArg::Native(native.clone()));
    }
    let raw = to_value(obj, "config")?;
    Ok(ConfigArg::Owned(Box::new(PyConfig::from_value(
        obj.py(),
        raw,
    )?)))
}

const KEYS: [&str; 8] = [
    "region",
    "base_url",
    "api_key",
    "secret",
    "oauth_username",
    "oauth_password",
    "access_token",
    "user_agent",
];

#[pymethods]
impl PyConfig {
    /// Give `region` (`eu`, `us`, `sg`, `au`, `jkt`, `latam`, any case) or `base_url`, and the
    /// credentials the operations you call need. Raises `InvalidInputError`.
    #[new]
    #[pyo3(signature = (region=None, *, base_url=None, api_key=None, secret=None,
        oauth_username=None, oauth_password=None, access_token=None, user_agent=None))]
    #[allow(clippy::too_many_arguments)] // one keyword per config field, as in the vector format
    fn new(
        py: Python<'_>,
        region: Option<&Bound<'_, PyAny>>,
        base_url: Option<&Bound<'_, PyAny>>,
        api_key: Option<&Bound<'_, PyAny>>,
        secret: Option<&Bound<'_, PyAny>>,
        oauth_username: Option<&Bound<'_, PyAny>>,
        oauth_password: Option<&Bound<'_, PyAny>>,
        access_token: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let values = [
            region,
            base_url,
            api_key,
            secret,
            oauth_username,
            oauth_password,
            access_token,
            user_agent,
        ];
        let mut map = Map::new();
        for (key, value) in KEYS.iter().zip(values) {
            if let Some(text) = opt_text(value, key)? {
                map.insert((*key).to_owned(), Value::String(text));
            }
        }
        Self::from_value(py, Value::Object(map))
    }

    /// Reads a config dict in the vector format (`region` or `base_url`, `api_key`, `secret`,
    /// `oauth_username`, `oauth_password`, `access_token`, `user_agent`).
    /// A config from the caller's fields (`given`: a dict, `None` values absent) and the
    /// environment's `IPROOV_*` variables (`env`: a mapping), by core's rules
    /// (`JsonConfig::from_env`). Raises `InvalidInputError`.
    #[staticmethod]
    fn from_env(given: &Bound<'_, PyAny>, env: &Bound<'_, PyAny>) -> PyResult<Self> {
        let raw = iproov_core::operation::JsonConfig::env_fields(
            &to_value(given, "given")?,
            &to_value(env, "env")?,
        );
        Self::from_value(given.py(), raw)
    }

    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let raw = to_value(data, "config")?;
        Self::from_value(data.py(), raw)
    }

    /// The same configuration with this OAuth access token (for the users API without the
    /// token manager).
    fn with_access_token(&self, py: Python<'_>, access_token: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut raw = self.raw.clone();
        let token = opt_text(Some(access_token), "access_token")?;
        if let Value::Object(map) = &mut raw {
            match token {
                Some(token) => map.insert("access_token".to_owned(), Value::String(token)),
                None => map.remove("access_token"),
            };
        }
        Self::from_value(py, raw)
    }

    /// The region id (`eu`, ...), or `None` for a custom base URL.
    #[getter]
    fn region(&self) -> Option<&'static str> {
        self.json.config.target().region().map(|r| r.id())
    }

    /// The REST base URL, ending in `/api/v2`.
    #[getter]
    fn base_url(&self) -> &str {
        self.json.config.base_url()
    }

    /// Where iProov's SDKs stream to for this target's tokens (`wss://.../ws`): core's rule.
    #[getter]
    fn streaming_url(&self) -> String {
        self.json.config.streaming_url()
    }

    /// The User-Agent every request carries.
    #[getter]
    fn user_agent(&self) -> &str {
        self.json.config.user_agent()
    }

    /// The API key (not a secret: it also goes in URLs), if configured.
    #[getter]
    fn api_key(&self) -> Option<&str> {
        self.json.config.require_api_key().ok()
    }

    /// The OAuth username, if configured.
    #[getter]
    fn oauth_username(&self) -> Option<&str> {
        self.json.config.oauth_username().filter(|u| !u.is_empty())
    }

    /// The fields given, with every secret replaced by `[REDACTED]`: safe to log.
    fn redacted<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if let Value::Object(map) = &self.raw {
            for key in KEYS {
                match map.get(key) {
                    None | Some(Value::Null) => {}
                    Some(_) if is_secret(key) => dict.set_item(key, REDACTED)?,
                    Some(value) => dict.set_item(key, crate::convert::to_py(py, value)?)?,
                }
            }
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let mut parts = Vec::new();
        if let Value::Object(map) = &self.raw {
            for key in KEYS {
                match map.get(key) {
                    None | Some(Value::Null) => {}
                    Some(_) if is_secret(key) => parts.push(format!("{key}={REDACTED}")),
                    Some(Value::String(text)) => parts.push(format!("{key}={text:?}")),
                    Some(other) => parts.push(format!("{key}={other}")),
                }
            }
        }
        format!("Config({})", parts.join(", "))
    }
}

fn is_secret(key: &str) -> bool {
    iproov_core::operation::SECRET_CONFIG_FIELDS.contains(&key)
}
