"""Processes of the end-to-end tests and what they share: server, env, names.

Every process starts in its own process group, so that stopping it also stops
what it started (the server's web server, the worker's flow run).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "vanishing-gradients"
VARIANT_NAMES = ["sigmoid", "relu", "relu-batchnorm", "relu-batchnorm-dropout"]
SERVER_STARTUP_SECONDS = 120
RUN_SECONDS = 300


@dataclass(frozen=True)
class PrefectServer:
    """A running Prefect server and the environment its clients need."""

    url: str
    env: dict[str, str]
    folder: Path

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def results(self) -> Path:
        return Path(self.env["PREFECT_RESULTS_LOCAL_STORAGE_PATH"])

    @contextmanager
    def client(self) -> Iterator[SyncPrefectClient]:
        """A client of this server, whatever the test process is set up to use."""
        with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
            with get_client(sync_client=True) as client:
                yield client

    def run(self, *command: str, cwd: Path = PROJECT_ROOT) -> str:
        """Run a command against this server; on failure, fail with its output."""
        result = subprocess.run(
            command,
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
        return output


@dataclass(frozen=True)
class SmokeRun:
    """One flow run of the smoke deployment, done by a worker."""

    flow_run: FlowRun
    output_dir: Path
    worker_log: Path


def make_deploy(server: PrefectServer) -> str:
    """`make deploy`, as the README gives it, pointed at `server`."""
    return server.run(
        "make", "--no-print-directory", "deploy", f"API_URL={server.api_url}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prefect_environment(folder: Path, api_url: str) -> dict[str, str]:
    """The environment of every Prefect process of the tests.

    No PREFECT_* variable of the caller leaks in; the home (profiles, database)
    and the result store are under `folder`, analytics are off, and the pull
    step's {{ $PWD }} is the project folder whatever the caller's shell says.
    The scheduler is off so that no scheduled run of the weekly deployment can
    reach the worker. The server needs PREFECT_API_URL too: its UI asks the API
    at that address (its --port flag does not change it).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PREFECT_")
    }
    env.update(
        PREFECT_HOME=str(folder / "home"),
        PREFECT_API_URL=api_url,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(folder / "results"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="true",
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        DO_NOT_TRACK="1",
        PWD=str(PROJECT_ROOT),
    )
    return env


def start(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen:
    """Start a process in a new process group, its output going to `log`."""
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process and everything it started: TERM, then KILL what is left."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll the server's health endpoint until it answers; fail early if it died."""
    deadline = time.monotonic() + SERVER_STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The Prefect server exited:\n{tail(log)}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"No healthy Prefect server after {SERVER_STARTUP_SECONDS} s")
