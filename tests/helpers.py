"""Reading back from the Prefect server what a flow run did."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import Artifact, TaskRun
from prefect.states import State


def task_runs_of(state: State) -> list[TaskRun]:
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def task_states_of(state: State) -> dict[str, str]:
    """Task run name -> final state name (Completed, Cached, ...)."""
    return {run.name: run.state.name for run in task_runs_of(state)}


def artifacts_of(state: State) -> list[Artifact]:
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
            )
        )
