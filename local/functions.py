"""The template's functions, loaded from their code folders and invoked in this process.

Each function runs with the environment Lambda would give it: the template's variables
(Globals merged with its own), the reserved `AWS_LAMBDA_*` variables, fake credentials and
`AWS_ENDPOINT_URL` pointing at moto. Invocations are serialized by one lock, because the
environment and `sys.path` are process-wide; a slow function delays the others.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.aws import FAKE_CREDENTIALS
from local.template import Template, TemplateError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
"""Lambda's defaults when neither the function nor `Globals` sets Timeout or MemorySize."""

FUNCTION_TYPES = ("AWS::Serverless::Function",)
LAYER_TYPES = ("AWS::Serverless::LayerVersion",)


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, with `Globals` applied and intrinsics resolved."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    events: dict[str, Any] = field(default_factory=dict)
    """The function's `Events`, unresolved, so that `ApiId: !Ref X` still names X."""


def read_functions(template: Template) -> dict[str, FunctionSpec]:
    """Read the template's Python functions that have their code in a local folder.

    Other functions (container images, other runtimes, code in S3) are logged and left out.
    """
    functions: dict[str, FunctionSpec] = {}
    for logical_id, _ in template.resources_of_type(*FUNCTION_TYPES):
        properties = template.properties(logical_id)
        runtime = str(template.resolve(properties.get("Runtime", "")))
        code_uri = template.resolve(properties.get("CodeUri"))

        if properties.get("PackageType", "Zip") != "Zip" or not runtime.startswith("python"):
            logger.warning(
                "the local stack runs only Python zip functions; %s (%s) is left out",
                logical_id,
                runtime or properties.get("PackageType"),
            )
            continue
        if not isinstance(code_uri, str):
            logger.warning("%s has no local CodeUri folder; it is left out", logical_id)
            continue

        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=template.physical_name(logical_id),
            arn=str(template.get_att(logical_id, "Arn")),
            code_dir=(template.directory / code_uri).resolve(),
            handler=str(template.resolve(properties["Handler"])),
            runtime=runtime,
            layer_dirs=_layer_dirs(template, logical_id, properties.get("Layers") or []),
            environment=_environment(template, logical_id, properties),
            timeout_seconds=int(
                template.resolve(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS))
            ),
            memory_mb=int(template.resolve(properties.get("MemorySize", DEFAULT_MEMORY_MB))),
            events=dict(properties.get("Events") or {}),
        )
    return functions


def _layer_dirs(template: Template, logical_id: str, layers: list[Any]) -> tuple[Path, ...]:
    directories = []
    for layer in layers:
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        resource = template.resources.get(layer_id) if isinstance(layer_id, str) else None
        if not isinstance(layer_id, str) or resource is None or resource["Type"] not in LAYER_TYPES:
            logger.warning(
                "%s uses layer %s, which is not in the template; its code is not importable",
                logical_id,
                template.resolve(layer),
            )
            continue
        content_uri = template.resolve(template.properties(layer_id).get("ContentUri"))
        if not isinstance(content_uri, str):
            raise TemplateError(f"layer {layer_id} has no local ContentUri folder")
        # SAM builds a Python layer into `python/`, which Lambda puts on sys.path. Locally the
        # ContentUri folder plays that part, and the layer's requirements are in the venv.
        directories.append((template.directory / content_uri).resolve())
    return tuple(directories)


def _environment(
    template: Template, logical_id: str, properties: Mapping[str, Any]
) -> dict[str, str]:
    variables = template.resolve((properties.get("Environment") or {}).get("Variables") or {})
    environment = {}
    for name, value in variables.items():
        if isinstance(value, bool):
            environment[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            environment[name] = str(value)
        else:
            raise TemplateError(
                f"environment variable {name} of {logical_id} resolves to {value!r}, "
                "and Lambda takes only strings"
            )
    return environment


class FunctionNotFoundError(LookupError):
    """No function of the template has that logical id, name or ARN."""


class FunctionError(Exception):
    """The function failed: it raised, timed out, did not load or returned non-JSON.

    `payload` is the error document Lambda returns (`errorMessage`, `errorType`, ...).
    """

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload['errorType']}: {payload['errorMessage']}")
        self.payload = payload


@dataclass
class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    """`time.monotonic()` value at which the function times out."""
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))

    @classmethod
    def for_direct_call(
        cls, function_name: str, *, timeout_seconds: float = 30.0, memory_limit_in_mb: int = 512
    ) -> LambdaContext:
        """Build a context for calling a handler directly, as tests and benchmarks do."""
        return cls(
            function_name=function_name,
            invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
            memory_limit_in_mb=memory_limit_in_mb,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name="direct/[$LATEST]",
            deadline=time.monotonic() + timeout_seconds,
        )


@dataclass
class _LoadedFunction:
    spec: FunctionSpec
    environment: dict[str, str]
    handler: Any = None
    # Modules imported from the function's folder and layers, kept out of sys.modules between
    # its invocations. So two functions can each have an `app.py`, and each has its own copy
    # of a layer's module state (caches, clients), as in its own Lambda environment.
    private_modules: dict[str, ModuleType] = field(default_factory=dict)


class FunctionRuntime:
    """Loads the template's functions and invokes them one at a time.

    Parameters
    ----------
    functions
        The functions by logical id, from `read_functions`.
    aws_endpoint_url
        moto's URL, given to the functions as `AWS_ENDPOINT_URL`.
    region
        The region given as `AWS_REGION` and `AWS_DEFAULT_REGION`.
    """

    def __init__(
        self, functions: Mapping[str, FunctionSpec], *, aws_endpoint_url: str, region: str
    ) -> None:
        base_environment = _base_environment()
        self._functions = {
            logical_id: _LoadedFunction(
                spec, {**base_environment, **lambda_environment(spec, aws_endpoint_url, region)}
            )
            for logical_id, spec in functions.items()
        }
        self._lock = threading.Lock()

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        return {logical_id: loaded.spec for logical_id, loaded in self._functions.items()}

    def find(self, name: str) -> FunctionSpec:
        """Find a function by logical id, physical name or ARN (a `:$LATEST` qualifier is fine).

        Raises
        ------
        FunctionNotFoundError
            No function has that name.
        """
        for loaded in self._functions.values():
            spec = loaded.spec
            if name in (spec.logical_id, spec.name, spec.arn, f"{spec.arn}:$LATEST"):
                return spec
            partial_arn = spec.arn.split(":", 4)[-1]  # `123456789012:function:name`
            if name in (partial_arn, f"{spec.name}:$LATEST", f"{spec.logical_id}:$LATEST"):
                return spec
        raise FunctionNotFoundError(name)

    def load_all(self) -> None:
        """Import every handler now, so import errors show at start and not on a request.

        A function that fails to import is logged; its invocations retry the import and
        fail with Lambda's `Runtime.ImportModuleError` until it succeeds.
        """
        with self._lock:
            for loaded in self._functions.values():
                try:
                    self._load(loaded)
                except FunctionError as error:
                    logger.error("function %s did not load: %s", loaded.spec.logical_id, error)

    def invoke(self, name: str, event: Any, *, request_id: str | None = None) -> str:
        """Invoke a function with a JSON-compatible event and return its result as JSON text.

        `request_id` becomes the context's `aws_request_id`; a new UUID by default.

        Raises
        ------
        FunctionNotFoundError
            No function has that name.
        FunctionError
            The function raised, timed out, failed to load or returned non-JSON.
        """
        spec = self.find(name)
        loaded = self._functions[spec.logical_id]
        request_id = request_id or str(uuid.uuid4())

        with self._lock:
            started = time.monotonic()
            try:
                self._load(loaded)
                context = _context(spec, request_id, started)
                with _applied(loaded):
                    result = loaded.handler(event, context)
            except FunctionError as error:
                logger.error(
                    "function %s failed (request %s): %s", spec.logical_id, request_id, error
                )
                raise
            except (Exception, SystemExit) as error:
                logger.exception("function %s failed (request %s)", spec.logical_id, request_id)
                raise FunctionError(_error_payload(error, request_id)) from error
            finally:
                elapsed = time.monotonic() - started
                logger.info(
                    "invoked %s in %.0f ms (request %s)",
                    spec.logical_id,
                    elapsed * 1000,
                    request_id,
                )

        if elapsed > spec.timeout_seconds:
            # NOTE: an in-process function cannot be stopped at its timeout as Lambda stops
            # it; its result is discarded afterwards, as Lambda's caller would see it.
            logger.error(
                "function %s exceeded its %s s timeout", spec.logical_id, spec.timeout_seconds
            )
            raise FunctionError(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                    f"{spec.timeout_seconds:.2f} seconds",
                }
            )

        try:
            return json.dumps(result)
        except (TypeError, ValueError) as error:
            raise FunctionError(
                {
                    "errorType": "Runtime.MarshalError",
                    "errorMessage": f"Unable to marshal response: {error}",
                    "requestId": request_id,
                    "stackTrace": [],
                }
            ) from error

    def invoke_async(self, name: str, event: Any) -> None:
        """Invoke a function on a background thread, as `InvocationType=Event` does.

        NOTE: Lambda retries a failed asynchronous invocation twice; here a failure is only
        logged.
        """
        spec = self.find(name)

        def run() -> None:
            try:
                self.invoke(spec.logical_id, event)
            except FunctionError as error:
                logger.error("asynchronous invocation of %s failed: %s", spec.logical_id, error)

        threading.Thread(target=run, name=f"invoke-{spec.logical_id}", daemon=True).start()

    def _load(self, loaded: _LoadedFunction) -> None:
        if loaded.handler is not None:
            return
        spec = loaded.spec
        module_path, _, function_name = spec.handler.rpartition(".")
        module_file = spec.code_dir / (module_path.replace(".", "/") + ".py")
        # Each function's handler module gets its own name, because several functions'
        # handlers are usually all called `app`.
        module_name = f"{spec.logical_id}__{module_path.replace('.', '__')}"

        with _applied(loaded):
            module_spec = importlib.util.spec_from_file_location(module_name, module_file)
            if module_spec is None or module_spec.loader is None or not module_file.is_file():
                raise FunctionError(_import_error(spec, f"No module named '{module_path}'"))
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            try:
                module_spec.loader.exec_module(module)
            except SyntaxError as error:
                del sys.modules[module_name]
                raise FunctionError(
                    {
                        "errorType": "Runtime.UserCodeSyntaxError",
                        "errorMessage": f"Syntax error in module '{module_path}': {error}",
                        "stackTrace": [],
                    }
                ) from error
            except Exception as error:
                del sys.modules[module_name]
                logger.exception("importing %s failed", spec.logical_id)
                raise FunctionError(_import_error(spec, str(error))) from error

        handler = getattr(module, function_name, None)
        if not callable(handler):
            raise FunctionError(
                {
                    "errorType": "Runtime.HandlerNotFound",
                    "errorMessage": f"Handler '{function_name}' missing on module '{module_path}'",
                    "stackTrace": [],
                }
            )
        loaded.handler = handler


def lambda_environment(spec: FunctionSpec, aws_endpoint_url: str, region: str) -> dict[str, str]:
    """Return one function's environment: the template's variables and Lambda's reserved ones."""
    return {
        **spec.environment,
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": "local-session-token",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{spec.logical_id}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        # `sam local` sets AWS_SAM_LOCAL. Either variable makes Powertools skip X-Ray, which
        # has no daemon here.
        "AWS_SAM_LOCAL": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _base_environment() -> dict[str, str]:
    """This process's environment without the developer's AWS and Powertools settings.

    A developer's `AWS_PROFILE`, `~/.aws/config` or `AWS_ENDPOINT_URL_DYNAMODB` would
    otherwise send a function's AWS calls somewhere other than moto.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_"))
    }
    environment["AWS_CONFIG_FILE"] = os.devnull
    environment["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return environment


@contextmanager
def _applied(loaded: _LoadedFunction) -> Iterator[None]:
    """Give the process one function's environment, sys.path and modules for a while."""
    spec = loaded.spec
    saved_environment = dict(os.environ)
    saved_path = list(sys.path)
    os.environ.clear()
    os.environ.update(loaded.environment)
    sys.path[:0] = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
    sys.modules.update(loaded.private_modules)
    modules_before = set(sys.modules) - set(loaded.private_modules)
    try:
        yield
    finally:
        candidates = set(sys.modules) - modules_before
        directories = (spec.code_dir, *spec.layer_dirs)
        loaded.private_modules = _take_modules_under(directories, candidates)
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_environment)


def _take_modules_under(directories: Sequence[Path], names: set[str]) -> dict[str, ModuleType]:
    """Remove from sys.modules, and return, those of `names` loaded from `directories`."""
    prefixes = tuple(str(directory) + os.sep for directory in directories)
    private = {}
    for name in names:
        module_file = getattr(sys.modules.get(name), "__file__", None)
        if module_file and os.path.abspath(module_file).startswith(prefixes):
            private[name] = sys.modules.pop(name)
    return private


def _context(spec: FunctionSpec, request_id: str, started: float) -> LambdaContext:
    return LambdaContext(
        function_name=spec.name,
        invoked_function_arn=spec.arn,
        memory_limit_in_mb=spec.memory_mb,
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{spec.name}",
        log_stream_name=f"local/[$LATEST]{spec.logical_id}",
        deadline=started + spec.timeout_seconds,
    )


def _error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    """Lambda's document for an unhandled exception, with the frames below the runtime."""
    frames = traceback.extract_tb(error.__traceback__)[1:]
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _import_error(spec: FunctionSpec, reason: str) -> dict[str, Any]:
    module_path = spec.handler.rpartition(".")[0]
    return {
        "errorType": "Runtime.ImportModuleError",
        "errorMessage": f"Unable to import module '{module_path}': {reason}",
        "stackTrace": [],
    }
