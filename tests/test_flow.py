"""The whole flow against a real temporary Prefect server."""

import json

import pandas as pd
import pytest

from flows.vanishing_gradients import vanishing_gradients
from tasks.parameters import StudyParameters
from tasks.publish import REPORT_KEY, SUMMARY_KEY
from tasks.train import progress_key
from tests.helpers import artifacts_of, task_states_of

VARIANT_NAMES = ["sigmoid", "relu", "relu-batchnorm", "relu-batchnorm-dropout"]
RUN_FILES = [
    "summary.csv",
    "history.csv",
    "report.md",
    "run.json",
    "dataset.png",
    "validation_accuracy.png",
    "decision_boundaries.png",
    "gradients_epoch_1.png",
    "unit_health.png",
    *[f"curves_{name}.png" for name in VARIANT_NAMES],
    *[f"gradients_{name}.png" for name in VARIANT_NAMES],
    *[f"models/{name}.keras" for name in VARIANT_NAMES],
]


def run_study(output_dir, **params):
    state = vanishing_gradients(
        params=StudyParameters.model_validate(params),
        output_dir=output_dir,
        return_state=True,
    )
    assert state.is_completed(), state.message
    return state, state.result()


def test_short_run_writes_every_file_and_artifact(prefect_server, tmp_path):
    state, run_folder = run_study(tmp_path, training={"epochs": 3})

    assert run_folder.parent == tmp_path / "runs"
    assert (tmp_path / "latest").resolve() == run_folder.resolve()
    for name in RUN_FILES:
        assert (run_folder / name).stat().st_size > 0, name

    summary = pd.read_csv(run_folder / "summary.csv")
    assert summary["variant"].tolist() == VARIANT_NAMES
    for column in ["train_accuracy", "val_loss", "test_accuracy", "test_loss"]:
        assert summary[column].notna().all()
    assert {"epochs_to_0.90", "epochs_to_0.95"} <= set(summary.columns)
    assert (summary["gradient_ratio_epoch_1"] > 0).all()

    history = pd.read_csv(run_folder / "history.csv")
    metrics = set(history["metric"])
    assert {f"gradient_norm_layer_{i}" for i in range(1, 7)} <= metrics
    assert {f"saturated_fraction_layer_{i}" for i in range(1, 6)} <= metrics
    assert {f"dead_fraction_layer_{i}" for i in range(1, 6)} <= metrics

    assert list(history.columns) == ["variant", "epoch", "split", "metric", "value"]
    curves = history[history["metric"].isin(["loss", "accuracy"])]
    assert len(curves) == 4 * 3 * 2 * 2

    run = json.loads((run_folder / "run.json").read_text())
    assert run["parameters"]["training"]["epochs"] == 3
    assert set(run["seeds"]["variants"]) == set(VARIANT_NAMES)
    assert run["packages"]["tensorflow"] and run["packages"]["prefect"]
    assert "git_commit" in run and run["started"] < run["finished"]

    report = (run_folder / "report.md").read_text()
    assert "](validation_accuracy.png)" in report
    assert "| First/last hidden gradient, epoch 1 | Diverged at epoch |" in report

    artifacts = {a.key: a for a in artifacts_of(state) if a.key}
    assert artifacts[SUMMARY_KEY].type == "table"
    assert len(json.loads(artifacts[SUMMARY_KEY].data)) == 4
    assert artifacts[REPORT_KEY].type == "markdown"
    images = len([name for name in RUN_FILES if name.endswith(".png")])
    assert artifacts[REPORT_KEY].data.count("](data:image/png;base64,") == images
    for name in VARIANT_NAMES:
        progress = artifacts[progress_key(name)]
        assert progress.type == "progress"
        assert float(progress.data) == 100.0


def test_runs_never_overwrite_each_other(prefect_server, tmp_path):
    _, first = run_study(tmp_path, training={"epochs": 2}, variants=["relu"])
    _, second = run_study(tmp_path, training={"epochs": 2}, variants=["relu"])

    assert first != second
    assert (first / "report.md").exists() and (second / "report.md").exists()
    assert (tmp_path / "latest").resolve() == second.resolve()


def test_changing_a_parameter_retrains_only_what_it_changes(prefect_server, tmp_path):
    run_study(tmp_path, training={"epochs": 2}, variants=["sigmoid", "relu"], seed=5)

    longer, _ = run_study(tmp_path, training={"epochs": 3}, variants=["relu"], seed=5)
    states = task_states_of(longer)
    assert states_named(states, "generate-data") == ["Cached"]
    assert states["train-relu"] == "Completed"

    again, _ = run_study(tmp_path, training={"epochs": 2}, variants=["sigmoid"], seed=5)
    assert task_states_of(again)["train-sigmoid"] == "Cached"


def states_named(states: dict[str, str], prefix: str) -> list[str]:
    return [state for name, state in states.items() if name.startswith(prefix)]


@pytest.mark.slow
def test_default_study_tells_the_story_and_is_cached_the_second_time(
    prefect_server, tmp_path
):
    first, run_folder = run_study(tmp_path)
    summary = pd.read_csv(run_folder / "summary.csv").set_index("variant")

    assert summary.loc["sigmoid", "test_accuracy"] < 0.5
    for name in ["relu", "relu-batchnorm", "relu-batchnorm-dropout"]:
        assert summary.loc[name, "test_accuracy"] >= 0.95, name

    # The vanishing gradient, measured: orders of magnitude for sigmoid at
    # epoch 1, within one order of magnitude for every ReLU network.
    assert summary.loc["sigmoid", "gradient_ratio_epoch_1"] < 1e-2
    for name in ["relu", "relu-batchnorm", "relu-batchnorm-dropout"]:
        assert 0.1 < summary.loc[name, "gradient_ratio_epoch_1"] < 10, name

    second, second_folder = run_study(tmp_path)
    states = task_states_of(second)
    for name in VARIANT_NAMES:
        assert states[f"train-{name}"] == "Cached"
        assert states[f"evaluate-{name}"] == "Cached"
    assert states_named(states, "generate-data") == ["Cached"]
    pd.testing.assert_frame_equal(
        pd.read_csv(second_folder / "summary.csv").drop(columns="train_seconds"),
        pd.read_csv(run_folder / "summary.csv").drop(columns="train_seconds"),
    )
