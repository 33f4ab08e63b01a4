"""Stopping a run from the terminal: at once, with nothing lost, and on record.

Ctrl-C or SIGTERM ends a command-line run without waiting for its training
threads; the flow run is marked Cancelled, now or by the next run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.logging import get_run_logger
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import get_current_settings
from prefect.states import Cancelled

from tasks.publish import PUBLISHED, discard_incomplete_runs


def stop_now(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM from the terminal: end the run at once.

    Left to itself, an interrupted flow keeps its training threads running and
    then retries, forever, to report to a temporary Prefect server that the
    signal has already stopped. Instead the flow run is marked Cancelled, a run
    folder being written is removed, the temporary server is stopped, and the
    process exits. Nothing else is lost: a run's folder gets its name only when
    complete, `latest` moves after that, and the cache keeps finished tasks.
    """
    name = signal.Signals(signum).name
    if PUBLISHED:
        folder = PUBLISHED[-1]
        message = (
            f"Interrupted ({name}) after the report was written: the run's files "
            f"are complete in {folder}, and {folder.parent.parent / 'latest'} points "
            "there. What came after may be missing: the Prefect artifacts, the "
            "check against the previous run."
        )
    else:
        message = (
            f"Interrupted ({name}): the run stops here. Earlier runs, "
            "artifacts/latest and the cache are untouched."
        )
    # Straight to the file descriptor: the process ends with os._exit, which
    # flushes no Python buffer.
    os.write(2, f"\n{message}\n".encode())
    try:
        discard_incomplete_runs()
        mark_cancelled(f"Interrupted by {name} from the terminal")
        for server in list(getattr(SubprocessASGIServer, "_instances", {}).values()):
            with contextlib.suppress(Exception):
                server.stop()
    finally:
        os._exit(128 + signum)


def interrupted_runs() -> Path:
    """Where the ids of runs left Running by an interruption wait to be closed.

    They are kept beside the database that holds them, in the Prefect home.
    """
    return get_current_settings().home / "vanishing-gradients-interrupted"


def mark_cancelled(message: str) -> None:
    """Record the interrupted flow run as Cancelled, now or at the next run.

    Ctrl-C reaches the temporary Prefect server too, which then refuses new
    requests; the run's id is then kept for the next run to mark.
    """
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    try:
        with get_client(sync_client=True, httpx_settings={"timeout": 2}) as client:
            client.set_flow_run_state(
                context.flow_run.id, Cancelled(message=message), force=True
            )
    except Exception:
        with contextlib.suppress(OSError):
            interrupted_runs().parent.mkdir(parents=True, exist_ok=True)
            with interrupted_runs().open("a") as record:
                record.write(f"{context.flow_run.id}\n")


def cancel_interrupted_runs() -> int:
    """Mark as Cancelled the runs an interruption left Running; return how many."""
    record = interrupted_runs()
    if not record.exists():
        return 0
    cancelled = 0
    with get_client(sync_client=True) as client:
        for flow_run_id in record.read_text().split():
            with contextlib.suppress(Exception):
                state = client.read_flow_run(flow_run_id).state
                if state is not None and state.is_running():
                    client.set_flow_run_state(
                        flow_run_id,
                        Cancelled(message="Interrupted from the terminal"),
                        force=True,
                    )
                    cancelled += 1
    record.unlink(missing_ok=True)
    return cancelled


def stop_on_terminal_signals() -> None:
    """Make SIGINT and SIGTERM end a command-line run at once (see stop_now)."""
    with contextlib.suppress(ValueError):  # signals belong to the main thread
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, stop_now)
            signal.signal(signal.SIGTERM, stop_now)


def handle_interruptions() -> None:
    """Keep a terminal run stoppable at once; close runs interrupted before.

    Prefect takes SIGTERM over while a flow runs (a worker cancels runs with
    it); a run started by `main` takes it back. Runs an earlier interruption
    left Running are marked Cancelled.
    """
    if signal.getsignal(signal.SIGINT) is stop_now:
        stop_on_terminal_signals()
    if cancelled := cancel_interrupted_runs():
        get_run_logger().info(
            "Marked %d run(s) interrupted earlier as Cancelled", cancelled
        )
