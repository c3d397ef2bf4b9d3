"""The native module (Rust, pyo3): a thin wrapper of core's ``host`` module, the interface napi
and wasm expose too (``bindings-js/NATIVE.md``; names snake_case here). Texts are JSON unless
named otherwise; ``""`` stands for none. A failure of core raises its error's class
(``_host.error_from_json``). A request comes as a native ``Request``, the driver's poll as a
tuple, a result as a dict (``bindings-js/NATIVE.md``, "Python's native forms"). Checked
against the built module by ``stubtest``."""

from typing import Any, ClassVar, Dict, Optional, Tuple, final

from ._host import Headers, Polled

__all__ = [
    "NativeConfig",
    "NativeFlow",
    "NativeDriver",
    "NativePump",
    "Request",
    "info",
    "new_config",
    "new_config_from_env",
    "config_with",
    "config_info",
    "build",
    "redact_request",
    "redact_request_parts",
    "build_enrol_image",
    "parse",
    "region",
    "regions",
    "check_user_id",
    "lint_user_id",
    "random_user_id",
    "pseudonymous_user_id",
    "transport_error",
    "flow_new",
    "flow_step",
    "new_flow",
    "flow_run",
    "driver_new",
    "driver_start",
    "driver_start_enrol_image",
    "driver_poll",
    "driver_response",
    "driver_failure",
    "driver_cancel",
    "driver_token_status",
    "service_setup",
    "service_view",
    "store_schema",
    "spool_due",
    "spool_tombstone",
    "store_error",
    "pump_new",
    "pump_next",
    "web_decide",
]

@final
class NativeConfig: ...

@final
class NativeFlow: ...

@final
class NativeDriver: ...

@final
class NativePump: ...

@final
class Request:
    """A request to send exactly as described (method, URL, headers, body bytes). Immutable.
    Its ``repr`` is core's redacted view, so printing or logging it never shows a credential."""

    def __new__(cls, method: str, url: str, headers: Tuple[Tuple[str, str], ...], body: bytes, view: Any) -> Request: ...
    @property
    def method(self) -> str:
        """``GET``, ``POST``, ``PUT`` or ``DELETE``."""
    @property
    def url(self) -> str:
        """The full URL, query included."""
    @property
    def headers(self) -> Tuple[Tuple[str, str], ...]:
        """Header ``(name, value)`` pairs in the order to send them."""
    @property
    def body(self) -> bytes:
        """The body bytes (empty for GET and DELETE)."""
    @property
    def _view(self) -> Any: ...
    def headers_dict(self) -> Dict[str, str]:
        """The headers as a dict (names as given; no name repeats in a request core builds)."""
    def redacted(self) -> Dict[str, Any]:
        """A dict safe to print or log: ``Authorization`` and every secret replaced by
        ``[REDACTED]``, a binary body summarised by its size."""
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

def info() -> str: ...
def new_config(config_json: str) -> NativeConfig: ...
def new_config_from_env(given_json: str, env_json: str) -> NativeConfig: ...
def config_with(config: NativeConfig, fields_json: str) -> NativeConfig: ...
def config_info(config: NativeConfig) -> str: ...
def build(operation: str, config: Any, input: Any) -> Request: ...
def build_enrol_image(config: Any, token: str, source: str, image: bytes, rotation: Optional[int]) -> Request: ...
def redact_request(operation: str, config: NativeConfig, input_json: str) -> str: ...
def redact_request_parts(
    config: NativeConfig, method: str, url: str, headers: Tuple[Tuple[str, str], ...], body: bytes
) -> str: ...
def parse(operation: str, config: Any, status: Any, headers: Headers, body: Any) -> Any: ...
def region(name: str) -> str: ...
def regions() -> str: ...
def check_user_id(field: str, user_id: str) -> None: ...
def lint_user_id(user_id: str) -> str: ...
def random_user_id(random_bytes: bytes) -> str: ...
def pseudonymous_user_id(host_secret: str, internal_key: str) -> str: ...
def transport_error(kind: str, cause: str) -> str: ...
def flow_new(flow: str, options_json: str) -> str: ...
def flow_step(flow: str, config: Optional[NativeConfig], state_json: str, step_json: str) -> str: ...
def new_flow(flow: str, options_json: str) -> NativeFlow: ...
def flow_run(flow: NativeFlow, config: Optional[NativeConfig], step_json: str) -> str: ...
def driver_new(config: NativeConfig, options_json: str, seed: bytes) -> NativeDriver: ...
def driver_start(
    driver: NativeDriver,
    operation: str,
    input: Any,
    attempt: int,
    quiet: bool,
    max_wait_ms: int,
    telemetry: str,
    now: int,
) -> int: ...
def driver_start_enrol_image(
    driver: NativeDriver,
    token: str,
    source: str,
    image: bytes,
    rotation: Optional[int],
    attempt: int,
    telemetry: str,
    now: int,
) -> int: ...
def driver_poll(driver: NativeDriver, id: int, now: int) -> Polled: ...
def driver_response(driver: NativeDriver, id: int, status: Any, headers: Headers, body: Any, now: int) -> Polled: ...
def driver_failure(driver: NativeDriver, id: int, failure: str, cause: str, now: int) -> Polled: ...
def driver_cancel(driver: NativeDriver, id: int) -> None: ...
def driver_token_status(driver: NativeDriver, now: int) -> str: ...
def service_setup(policy_json: str, options_json: str) -> str: ...
def service_view(record_json: str) -> str: ...
def store_schema(dialect: str) -> str: ...
def spool_due(text: str, now: int) -> str: ...
def spool_tombstone(id: str, now: int) -> str: ...
def store_error(store_operation: str) -> str: ...
def pump_new(config: NativeConfig, setup_json: str, request_json: str, new_id: str, now: int) -> NativePump: ...
def pump_next(pump: NativePump, event_json: str, now: int) -> str: ...
def web_decide(what: str, facts_json: str) -> str: ...
