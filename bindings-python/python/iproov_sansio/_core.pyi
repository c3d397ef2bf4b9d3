"""The native module (Rust, pyo3). Checked against the built module by ``stubtest``."""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, final

from iproov_sansio._errors import IProovError

__all__ = [
    "__version__",
    "DEFAULT_USER_AGENT",
    "MAX_BODY_BYTES",
    "REDACTED",
    "Config",
    "Request",
    "Flow",
    "RetryAdvisor",
    "Driver",
    "error_classes",
    "transport_failures",
    "JourneyPump",
    "service_setup",
    "service_view",
    "store_schema",
    "spool_due",
    "spool_tombstone",
    "web_decide",
    "build",
    "build_enrol_image_bytes",
    "parse",
    "operations",
    "operation_info",
    "connection_error",
    "timeout_error",
    "regions",
    "region_info",
    "check_user_id",
    "lint_user_id",
    "random_user_id",
    "pseudonymous_user_id",
    "flow_new_state",
    "flow_run_step",
]

__version__: str
DEFAULT_USER_AGENT: str
MAX_BODY_BYTES: int
REDACTED: str

_Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]], Sequence[Tuple[bytes, bytes]], None]
_Body = Union[bytes, bytearray, memoryview, str, None]

@final
class Config:
    def __new__(
        cls,
        region: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        secret: Optional[str] = None,
        oauth_username: Optional[str] = None,
        oauth_password: Optional[str] = None,
        access_token: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> Config: ...
    @staticmethod
    def from_env(given: Mapping[str, Any], env: Mapping[str, str]) -> Config: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Config: ...
    def with_access_token(self, access_token: Optional[str]) -> Config: ...
    @property
    def region(self) -> Optional[str]: ...
    @property
    def streaming_url(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def user_agent(self) -> str: ...
    @property
    def api_key(self) -> Optional[str]: ...
    @property
    def oauth_username(self) -> Optional[str]: ...
    def redacted(self) -> Dict[str, Any]: ...

@final
class Request:
    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Tuple[Tuple[str, str], ...]: ...
    @property
    def body(self) -> bytes: ...
    def headers_dict(self) -> Dict[str, str]: ...
    def redacted(self) -> Dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Flow:
    def __new__(cls, flow: str, options: Optional[Mapping[str, Any]] = None) -> Flow: ...
    @staticmethod
    def resume(flow: str, state: Mapping[str, Any]) -> Flow: ...
    def step(self, step: Mapping[str, Any], config: Union[Config, Mapping[str, Any], None] = None) -> Dict[str, Any]: ...
    @property
    def flow(self) -> str: ...
    def state(self) -> Dict[str, Any]: ...

@final
class RetryAdvisor:
    def __new__(cls, options: Optional[Mapping[str, Any]] = None) -> RetryAdvisor: ...
    def advise(
        self,
        operation: str,
        attempt: int,
        now: int,
        jitter: float,
        status: Optional[int] = None,
        headers: _Headers = None,
        failure: Optional[str] = None,
        body: Optional[bytes] = None,
    ) -> Dict[str, Any]: ...
    def policy(self) -> Dict[str, Any]: ...

@final
class Driver:
    def __new__(cls, config: Config, options: Optional[Mapping[str, Any]] = None, seed: int = 0) -> Driver: ...
    def start(
        self,
        operation: str,
        input: Mapping[str, Any],
        attempt: Optional[int] = None,
        now: int = 0,
        quiet: bool = False,
        max_wait_ms: Optional[int] = None,
        telemetry: bool = False,
    ) -> int: ...
    def start_enrol_image(
        self,
        token: str,
        source: str,
        image: Union[bytes, bytearray, memoryview],
        rotation: Optional[int] = None,
        attempt: Optional[int] = None,
        now: int = 0,
        telemetry: bool = False,
    ) -> int: ...
    def poll(
        self, id: int, now: int
    ) -> Tuple[str, Any, Optional[List[Dict[str, Any]]], bool, Optional[List[Dict[str, Any]]]]: ...
    def on_response(self, id: int, status: int, headers: _Headers, body: Union[bytes, bytearray], now: int) -> None: ...
    def on_failure(self, id: int, failure: str, cause: str, now: int) -> None: ...
    def token_status(self, now: int) -> Dict[str, Any]: ...
    def cancel(self, id: int) -> None: ...

def error_classes() -> List[Tuple[str, str, str]]: ...
def service_setup(policy_json: str, options_json: str) -> str: ...
def service_view(record_json: str) -> str: ...
def store_schema(dialect: str) -> str: ...
def spool_due(text: str, now: int) -> str: ...
def spool_tombstone(id: str, now: int) -> str: ...
@final
class JourneyPump:
    def __new__(cls, config: Config, setup_json: str, request_json: str, new_id: str, now: int) -> JourneyPump: ...
    def next(self, event_json: str, now: int) -> str: ...

def web_decide(what: str, facts: Optional[Any] = None) -> Dict[str, Any]: ...
def transport_failures() -> List[str]: ...
def build(
    operation: str, config: Union[Config, Mapping[str, Any]], input: Optional[Mapping[str, Any]] = None
) -> Request: ...
def build_enrol_image_bytes(
    config: Union[Config, Mapping[str, Any]],
    *,
    token: str,
    source: str,
    image: _Body,
    rotation: Optional[int] = None,
) -> Request: ...
def parse(
    operation: str,
    config: Union[Config, Mapping[str, Any]],
    status: int,
    headers: _Headers = None,
    body: _Body = None,
) -> Dict[str, Any]: ...
def operations() -> List[str]: ...
def operation_info(operation: str) -> Dict[str, Any]: ...
def connection_error(cause: str) -> IProovError: ...
def timeout_error(cause: str) -> IProovError: ...
def regions() -> List[str]: ...
def region_info(name: str) -> Dict[str, str]: ...
def check_user_id(user_id: str) -> None: ...
def lint_user_id(user_id: str) -> List[Dict[str, str]]: ...
def random_user_id(random_bytes: bytes) -> str: ...
def pseudonymous_user_id(host_secret: str, internal_key: str) -> str: ...
def flow_new_state(flow: str, options: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]: ...
def flow_run_step(
    flow: str,
    config: Union[Config, Mapping[str, Any], None],
    state: Mapping[str, Any],
    step: Mapping[str, Any],
) -> Tuple[Dict[str, Any], Dict[str, Any]]: ...
