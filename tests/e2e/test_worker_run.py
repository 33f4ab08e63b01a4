"""A worker runs the smoke deployment; the run and its artifacts, via the API."""

from __future__ import annotations

import json

import pytest
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import StateType

from tasks.drift import DRIFT_KEY
from tasks.publish import REPORT_KEY, SUMMARY_KEY
from tests.e2e.components import PROJECT_ROOT, VARIANT_NAMES, tail

pytestmark = pytest.mark.e2e


def test_a_worker_completes_a_run_of_the_smoke_deployment(deployed, smoke_run):
    flow_run = smoke_run.flow_run
    with deployed.client() as client:
        smoke = client.read_deployment_by_name("vanishing-gradients/smoke")

    assert flow_run.state.type == StateType.COMPLETED, (
        f"{flow_run.state}\n{tail(smoke_run.worker_log)}"
    )
    assert flow_run.deployment_id == smoke.id
    assert flow_run.parameters["params"] == {"training": {"epochs": 3}, "seeds": 2}


def test_the_run_writes_to_the_given_folders_only(deployed, smoke_run):
    flow_run = smoke_run.flow_run
    run_folder = (smoke_run.output_dir / "latest").resolve()

    assert run_folder.parent == (smoke_run.output_dir / "runs").resolve()
    assert run_folder.name.endswith(flow_run.name)
    run = json.loads((run_folder / "run.json").read_text())
    assert run["flow_run"]["id"] == str(flow_run.id)
    assert run["parameters"]["training"]["epochs"] == 3
    assert not list((PROJECT_ROOT / "artifacts" / "runs").glob(f"*-{flow_run.name}"))
    assert any(deployed.results.iterdir()), "no task result in the test's store"


def test_the_run_publishes_its_summary_table_and_report(deployed, smoke_run):
    flow_run_id = smoke_run.flow_run.id
    with deployed.client() as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
            )
        )
    by_key = {artifact.key: artifact for artifact in artifacts if artifact.key}

    summary, report = by_key[SUMMARY_KEY], by_key[REPORT_KEY]
    assert (summary.type, report.type) == ("table", "markdown")
    assert summary.flow_run_id == report.flow_run_id == flow_run_id
    rows = json.loads(summary.data)
    assert [row["variant"] for row in rows] == VARIANT_NAMES
    assert "](data:image/png;base64," in report.data
    # The first run of these parameters in its folder: the drift baseline.
    assert by_key[DRIFT_KEY].type == "markdown"
    assert "this run is the baseline" in by_key[DRIFT_KEY].data
