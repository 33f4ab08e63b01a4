"""prefect.yaml's deployments, applied with `make deploy` to a real server."""

from __future__ import annotations

import pytest
import yaml
from prefect.client.schemas.schedules import CronSchedule

from tests.e2e.components import (
    POOL,
    PREFECT,
    PROJECT_ROOT,
    PrefectServer,
    make_deploy,
)

pytestmark = pytest.mark.e2e

PREFECT_FILE = PROJECT_ROOT / "prefect.yaml"
FLOW = "vanishing-gradients"


def declared() -> dict[str, dict]:
    """Deployment name -> its entry in prefect.yaml."""
    config = yaml.safe_load(PREFECT_FILE.read_text())
    return {entry["name"]: entry for entry in config["deployments"]}


def on_server(server: PrefectServer, name: str) -> dict:
    """What the server holds for a deployment, without ids and timestamps."""
    with server.client() as client:
        deployment = client.read_deployment_by_name(f"{FLOW}/{name}")
    return {
        "id": deployment.id,
        "entrypoint": deployment.entrypoint,
        "work_pool": deployment.work_pool_name,
        "tags": sorted(deployment.tags),
        "description": deployment.description,
        "parameters": deployment.parameters,
        "schedules": [
            (item.schedule.cron, item.schedule.timezone, item.active)
            for item in deployment.schedules
        ],
        "pull_steps": deployment.pull_steps,
    }


def deployment_names(server: PrefectServer) -> list[str]:
    with server.client() as client:
        return sorted(deployment.name for deployment in client.read_deployments())


def test_each_deployment_has_the_schedule_and_parameters_of_the_file(deployed):
    with deployed.client() as client:
        assert client.read_work_pool(POOL).type == "process"
    assert deployment_names(deployed) == sorted(declared())

    for name, entry in declared().items():
        deployment = on_server(deployed, name)
        assert deployment["entrypoint"] == entry["entrypoint"], name
        assert deployment["work_pool"] == POOL, name
        assert deployment["tags"] == sorted(entry["tags"]), name
        assert deployment["description"], name
        assert deployment["parameters"] == entry["parameters"], name
        assert deployment["schedules"] == [
            (schedule["cron"], schedule["timezone"], schedule["active"])
            for schedule in entry["schedules"]
        ], name
        # {{ $PWD }} is resolved when deploying: the worker gets this folder.
        assert deployment["pull_steps"] == [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": str(PROJECT_ROOT)
                }
            }
        ], name


def test_the_weekly_run_is_scheduled_and_the_smoke_run_is_not(deployed):
    weekly, smoke = on_server(deployed, "weekly"), on_server(deployed, "smoke")

    ((cron, _, active),) = weekly["schedules"]
    assert active and len(cron.split()) == 5 and cron.split()[4] != "*"
    assert smoke["schedules"] == []
    assert smoke["parameters"]["params"]["training"]["epochs"] <= 5


def test_deploying_again_changes_nothing_and_drops_schedules_added_elsewhere(
    deployed,
):
    before = {name: on_server(deployed, name) for name in declared()}
    with deployed.client() as client:
        client.create_deployment_schedules(
            before["smoke"]["id"], [(CronSchedule(cron="0 1 * * *"), True)]
        )

    make_deploy(deployed)
    make_deploy(deployed)

    assert deployment_names(deployed) == sorted(declared())
    assert {name: on_server(deployed, name) for name in declared()} == before


def test_a_changed_cron_replaces_the_schedule(deployed, tmp_path):
    original = on_server(deployed, "weekly")
    (timezone, active) = original["schedules"][0][1:]
    config = yaml.safe_load(PREFECT_FILE.read_text())
    weekly = next(entry for entry in config["deployments"] if entry["name"] == "weekly")
    weekly["schedules"][0]["cron"] = "30 7 * * 2"
    changed = tmp_path / "prefect.yaml"
    changed.write_text(yaml.safe_dump(config, sort_keys=False))

    deploy = [PREFECT, "--no-prompt", "deploy", "--prefect-file", str(changed)]
    deployed.run(*deploy, "--name", "weekly")

    now = on_server(deployed, "weekly")
    assert now["schedules"] == [("30 7 * * 2", timezone, active)]
    assert now["id"] == original["id"]
    assert now["pull_steps"] == original["pull_steps"]

    make_deploy(deployed)
    assert on_server(deployed, "weekly") == original
