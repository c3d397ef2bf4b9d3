//! Writes every host surface that restates core's tables (`core/src/surface`): the Python
//! per-operation functions, client methods (sync and async from one template), result and
//! error classes and TypedDicts; the JS result classes, error table and `api.generated.d.ts`;
//! and the README's error table. Nobody edits these files: a change goes into core's tables,
//! then this runs again (CONTRIBUTING.md).
//!
//! ```sh
//! cargo run -p iproov-codegen              # writes the files
//! cargo run -p iproov-codegen -- --check   # fails, naming each file, if one differs
//! ```
//!
//! `scripts/test` runs the check first: a generated file that differs from what this would
//! write now fails the run with the command that fixes it.

mod js;
mod names;
mod python;
mod readme;
mod ts;

use iproov_core::driver::DriverOptions;
use iproov_core::service::ServicePolicy;
use iproov_core::surface::{self, ErrorClass, ErrorCode, OperationSurface, Shape};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The command that writes the files, as every generated file's header names it.
pub const COMMAND: &str = "cargo run -p iproov-codegen";

/// Everything the emitters read, from core.
#[derive(Debug)]
pub struct Tables {
    pub operations: Vec<OperationSurface>,
    pub shapes: Vec<Shape>,
    pub classes: Vec<ErrorClass>,
    pub codes: Vec<ErrorCode>,
    /// `ServicePolicy::default()`'s JSON: the defaults the docs state.
    pub policy_defaults: serde_json::Value,
    /// The default policy as core resolves it for a default client (what is always set).
    pub resolved_policy: serde_json::Value,
    pub exit_events: Vec<&'static str>,
}

impl Tables {
    fn load() -> Self {
        Self {
            operations: surface::operations(),
            shapes: surface::shapes(),
            classes: surface::error_classes(),
            codes: surface::error_codes(),
            policy_defaults: ServicePolicy::default().to_json(),
            resolved_policy: ServicePolicy::default()
                .resolve(&DriverOptions::default())
                .map(|r| r.policy.to_json())
                .expect("core's default policy fits its default client"),
            exit_events: surface::service::exit_events(),
        }
    }

    /// The shape named `name` (every name the emitters ask for is core's).
    pub fn shape(&self, name: &str) -> &Shape {
        surface::find(&self.shapes, name).unwrap_or_else(|| panic!("core has no shape {name}"))
    }
}

/// Each generated file: its path from the repository root and its text.
fn outputs(root: &Path, t: &Tables) -> Result<Vec<(&'static str, String)>, String> {
    let readme =
        std::fs::read_to_string(root.join("README.md")).map_err(|e| format!("README.md: {e}"))?;
    Ok(vec![
        (
            "bindings-python/python/iproov_sansio/_ops.py",
            python::ops(t),
        ),
        (
            "bindings-python/python/iproov_sansio/_client_ops.py",
            python::client_ops(t),
        ),
        (
            "bindings-python/python/iproov_sansio/_results.py",
            python::results(t),
        ),
        (
            "bindings-python/python/iproov_sansio/_errors.py",
            python::errors(t),
        ),
        (
            "bindings-python/python/iproov_sansio/_shapes.py",
            python::shapes(t),
        ),
        ("bindings-js/generated/results.mjs", js::results(t)),
        ("bindings-js/generated/errors.mjs", js::errors(t)),
        ("bindings-js/generated/host.mjs", js::host(t)),
        ("bindings-js/api.generated.d.ts", ts::api(t)),
        ("README.md", readme::splice(&readme, t)?),
    ])
}

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!(
                "iproov-codegen: unknown argument {other:?} (none writes the files; --check compares them)"
            );
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = match outputs(&root, &Tables::load()) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("iproov-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = Vec::new();
    for (path, text) in &files {
        let full = root.join(path);
        let current = std::fs::read_to_string(&full).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(*path);
        } else if let Err(e) = write(&full, text) {
            eprintln!("iproov-codegen: {path}: {e}");
            return ExitCode::FAILURE;
        } else {
            println!("wrote {path}");
        }
    }
    if !stale.is_empty() {
        eprintln!(
            "generated surfaces out of date (they differ from what core's tables give):\n  {}\n\
             run `{COMMAND}` and commit the result; never edit a generated file by hand \
             (CONTRIBUTING.md says where each change goes)",
            stale.join("\n  ")
        );
        return ExitCode::FAILURE;
    }
    if check {
        println!("generated surfaces: {} files current", files.len());
    }
    ExitCode::SUCCESS
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}
