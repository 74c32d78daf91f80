"""Running a stage: timing, peak memory, the outputs file named by $CAPSTAN_OUTPUT, and turning
expected errors into one clear line on stderr with a non-zero exit code. Used by the Python
scripts (run_stage) and by the notebooks (NotebookStage)."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from . import errors
from .errors import StageError

#: Outputs travel through the engine in a 4 KiB slot (a pod's termination message).
MAX_OUTPUT_BYTES = 4096


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        peak /= 1024
    return round(peak / 1024, 1)


def process_seconds(fallback: float) -> float:
    """Seconds since this process started (interpreter start and imports included), read from
    /proc on Linux; ``fallback`` elsewhere."""
    try:
        stat = Path("/proc/self/stat").read_text()
        start_ticks = int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22, after "(comm)"
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), fallback)
    except (OSError, ValueError, IndexError):
        return fallback


def write_outputs(outputs: dict[str, Any]) -> None:
    """Prints the outputs as one JSON line and writes them to $CAPSTAN_OUTPUT when it is set."""
    text = json.dumps(outputs, sort_keys=True, default=_json_default)
    if len(text.encode()) > MAX_OUTPUT_BYTES:
        raise StageError(
            f"outputs are {len(text.encode())} bytes, more than the {MAX_OUTPUT_BYTES} allowed; "
            "write large results as artifacts and output their paths"
        )
    print(f"outputs: {text}", flush=True)
    target = os.environ.get("CAPSTAN_OUTPUT")
    if target:
        Path(target).write_text(text)


def _json_default(value: Any) -> Any:
    # numpy scalars and paths appear in outputs; anything else is a programming error.
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to outputs")


def run_stage(name: str, main: Callable[[], dict[str, Any]]) -> None:
    """Runs ``main`` as the stage ``name`` and exits the process.

    ``main`` returns the stage's outputs; ``seconds`` and ``peak_rss_mb`` are added. A
    StageError becomes one line on stderr and exit code 1; any other exception prints a line
    naming the stage first, then the traceback, and exits 1.
    """
    errors.current_stage = name
    started = time.perf_counter()
    try:
        outputs = main()
        outputs["seconds"] = round(process_seconds(time.perf_counter() - started), 3)
        outputs["peak_rss_mb"] = peak_rss_mb()
        write_outputs(outputs)
    except StageFailed as failed:
        failed.outputs["seconds"] = round(process_seconds(time.perf_counter() - started), 3)
        failed.outputs["peak_rss_mb"] = peak_rss_mb()
        write_outputs(failed.outputs)
        print(failed.error.line(name), file=sys.stderr, flush=True)
        sys.exit(1)
    except StageError as error:
        print(error.line(name), file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"similar-users/{name}: interrupted", file=sys.stderr, flush=True)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - the line comes first, then the traceback
        print(
            f"similar-users/{name}: unexpected {type(error).__name__}: {error} (traceback follows)",
            file=sys.stderr,
            flush=True,
        )
        traceback.print_exc()
        sys.exit(1)
    sys.exit(0)


class StageFailed(Exception):
    """Raised by a stage that has outputs to record (e.g. metrics) but must fail the run."""

    def __init__(self, error: StageError, outputs: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error = error
        self.outputs = outputs


class NotebookStage:
    """The notebook counterpart of run_stage: create it in the first code cell, call finish()
    in the last. A StageError raised by any cell shows as the one line
    ``similar-users/<stage>: <message>`` instead of a traceback (see StageError), and the
    notebook runner fails the task with it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.perf_counter()
        errors.current_stage = name

    def finish(self, outputs: dict[str, Any]) -> None:
        """Adds seconds (since the kernel process started, so imports count) and peak_rss_mb
        (of the kernel process) and writes the outputs."""
        outputs = dict(outputs)
        outputs["seconds"] = round(process_seconds(time.perf_counter() - self.started), 3)
        outputs["peak_rss_mb"] = peak_rss_mb()
        write_outputs(outputs)


def work_dir(explicit: str | None, stage: str) -> Path:
    """Where a stage writes its artifacts: the explicit folder, else $CAPSTAN_ARTIFACTS_DIR/<stage>."""
    if explicit:
        base = Path(explicit)
    elif os.environ.get("CAPSTAN_ARTIFACTS_DIR"):
        base = Path(os.environ["CAPSTAN_ARTIFACTS_DIR"]) / stage
    else:
        raise StageError(
            "no folder to write artifacts to: pass --work-dir (or the work_dir parameter) "
            "or run under Capstan, which sets CAPSTAN_ARTIFACTS_DIR"
        )
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StageError(f"cannot create the artifacts folder {base}: {error.strerror}") from error
    return base.resolve()


def parse_bool(value: str | bool, name: str) -> bool:
    """Reads a boolean parameter rendered into argv ("true", "false", "1", "0", "yes", "no")."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise StageError(f"parameter {name}={value!r} is not a boolean (accepted: true, false)")


def require_file(path: str | Path, what: str, flag: str) -> Path:
    """Returns ``path`` if it is an existing file, else a StageError naming the flag and the path."""
    if not str(path):
        raise StageError(f"{flag} is empty: it must name the {what}")
    resolved = Path(path)
    if not resolved.is_file():
        raise StageError(f"{what} not found: {flag}={resolved} does not exist or is not a file")
    return resolved
