"""Real components for the end-to-end tests, shared by the session.

A Prefect server runs as a subprocess on a free port, with its own Prefect home
and database in a temporary folder; the project's deployments are applied to it
with `make deploy`; a worker runs the smoke deployment once. The processes are
stopped even when a test fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.components import (
    POOL,
    PREFECT,
    PROJECT_ROOT,
    RUN_SECONDS,
    PrefectServer,
    SmokeRun,
    free_port,
    make_deploy,
    prefect_environment,
    start,
    stop,
    tail,
    wait_until_healthy,
)


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory) -> Iterator[PrefectServer]:
    """A real Prefect server with UI, on a free port and a throwaway database."""
    folder = tmp_path_factory.mktemp("prefect-e2e")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = prefect_environment(folder, f"{url}/api")
    log = folder / "server.log"
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = start(command, PROJECT_ROOT, env, log)
    try:
        wait_until_healthy(url, process, log)
        yield PrefectServer(url=url, env=env, folder=folder)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def deployed(e2e_server: PrefectServer) -> PrefectServer:
    """The server, with the work pool and prefect.yaml's deployments made by make."""
    make_deploy(e2e_server)
    return e2e_server


@pytest.fixture(scope="session")
def smoke_run(deployed: PrefectServer) -> SmokeRun:
    """A 3-epoch, 2-seed run of the smoke deployment, done by a worker, written to tmp.

    The worker starts in a folder of its own: the deployment's pull step, not the
    worker's folder, must lead it to the project's code.
    """
    output_dir = deployed.folder / "output"
    with deployed.client() as client:
        deployment = client.read_deployment_by_name("vanishing-gradients/smoke")
        flow_run = client.create_flow_run_from_deployment(
            deployment.id,
            parameters={
                "params": {"training": {"epochs": 3}, "seeds": 2},
                "output_dir": str(output_dir),
            },
        )

    worker_folder = deployed.folder / "worker"
    worker_folder.mkdir()
    log = deployed.folder / "worker.log"
    command = [PREFECT, "worker", "start", "--pool", POOL, "--run-once"]
    worker = start(command, worker_folder, deployed.env, log)
    try:
        worker.wait(RUN_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"The worker did not finish in {RUN_SECONDS} s:\n{tail(log)}")
    finally:
        stop(worker)

    with deployed.client() as client:
        flow_run = client.read_flow_run(flow_run.id)
    return SmokeRun(flow_run=flow_run, output_dir=output_dir, worker_log=log)
