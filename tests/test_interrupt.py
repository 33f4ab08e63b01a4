"""Ctrl-C or SIGTERM in the middle of `make run` stops it at once and loses nothing."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STUDY = [sys.executable, "-m", "flows.vanishing_gradients"]


def environment(tmp_path: Path) -> dict[str, str]:
    """The project's settings, with a Prefect home, database and cache of the test's."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(tmp_path / "results"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def wait_for(log: Path, pattern: str, process: subprocess.Popen, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if match := re.search(pattern, log.read_text()):
            return match
        if process.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"never saw {pattern!r}:\n{log.read_text()[-3000:]}")


def answers(port: int) -> bool:
    with socket.socket() as connection:
        connection.settimeout(1)
        return connection.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_an_interrupted_run_stops_at_once_and_loses_nothing(tmp_path, signum):
    earlier = tmp_path / "artifacts" / "runs" / "20260101-000000-earlier"
    earlier.mkdir(parents=True)
    (earlier / "report.md").write_text("an earlier run")
    (tmp_path / "artifacts" / "latest").symlink_to(Path("runs") / earlier.name)
    env = environment(tmp_path)
    log = tmp_path / "run.log"

    # The whole process group gets the signal, as from a terminal's Ctrl-C.
    with log.open("w") as output:
        run = subprocess.Popen(
            [*STUDY, "--seeds", "8", "--seed", str(1000 + signum)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        port = int(
            wait_for(log, r"temporary server on http://127.0.0.1:(\d+)", run, 120)[1]
        )
        wait_for(log, r"epoch 10/100", run, 120)
        os.killpg(run.pid, signum)
        code = run.wait(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)

    assert code == 128 + signum
    assert f"Interrupted ({signal.Signals(signum).name})" in log.read_text()
    assert not answers(port)
    runs = tmp_path / "artifacts" / "runs"
    assert [folder.name for folder in runs.iterdir()] == [earlier.name]
    assert (earlier / "report.md").read_text() == "an earlier run"
    assert (tmp_path / "artifacts" / "latest").resolve() == earlier.resolve()

    if signum != signal.SIGINT:
        return
    # The interrupted run shows as Cancelled: marked at once if its server still
    # answered, otherwise by the next run.
    after = subprocess.run(
        [*STUDY, "--training.epochs", "1", "--seeds", "1", "--variants", "relu"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert after.returncode == 0, after.stdout[-3000:]
    assert len(list(runs.iterdir())) == 2
    assert flow_run_states(env) == ["CANCELLED", "COMPLETED"]


def flow_run_states(env: dict[str, str]) -> list[str]:
    """The state of every flow run in the database of `env`'s Prefect home."""
    code = (
        "from prefect import get_client\n"
        "with get_client(sync_client=True) as client:\n"
        "    for run in client.read_flow_runs():\n"
        "        print('STATE', run.state.type.value)\n"
    )
    listing = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr[-3000:]
    return sorted(
        line.split()[1]
        for line in listing.stdout.splitlines()
        if line.startswith("STATE")
    )


def test_ctrl_c_while_tensorflow_imports_ends_without_a_traceback(tmp_path):
    run = subprocess.Popen(
        [*STUDY, "--seeds", "1"],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # Importing TensorFlow alone takes longer than this (about 5 s here).
        time.sleep(1)
        os.killpg(run.pid, signal.SIGINT)
        output, _ = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)

    assert run.returncode == 128 + signal.SIGINT
    assert "Interrupted before the run started: nothing was run." in output
    assert "Traceback" not in output
    assert not (tmp_path / "artifacts").exists()
