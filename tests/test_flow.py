"""The whole flow against a real temporary Prefect server."""

import json

import numpy as np
import pandas as pd
import pytest

from flows.vanishing_gradients import vanishing_gradients
from tasks.drift import DRIFT_KEY
from tasks.parameters import StudyParameters
from tasks.publish import REPORT_KEY, SUMMARY_KEY
from tasks.variants import VARIANTS
from tests.helpers import artifacts_of, task_runs_of, task_states_of

VARIANT_NAMES = ["sigmoid", "relu", "relu-batchnorm", "relu-batchnorm-dropout"]
FIGURES = [
    "dataset.png",
    "validation_accuracy.png",
    "decision_boundaries.png",
    "gradients_epoch_1.png",
    "unit_health.png",
    *[f"curves_{name}.png" for name in VARIANT_NAMES],
    *[f"gradients_{name}.png" for name in VARIANT_NAMES],
]
TABLES = ["summary.csv", "runs.csv", "paired.csv", "history.csv"]


def run_study(output_dir, **params):
    state = vanishing_gradients(
        params=StudyParameters.model_validate(params),
        output_dir=output_dir,
        return_state=True,
    )
    assert state.is_completed(), state.message
    return state, state.result()


def test_short_run_writes_every_file_and_artifact(prefect_server, tmp_path):
    state, run_folder = run_study(tmp_path, training={"epochs": 3}, seeds=2)

    assert run_folder.parent == tmp_path / "runs"
    assert (tmp_path / "latest").resolve() == run_folder.resolve()
    models = [f"models/{v}-seed-{s}.keras" for v in VARIANT_NAMES for s in (0, 1)]
    for name in [*TABLES, *FIGURES, *models, "report.md", "report.html", "run.json"]:
        assert (run_folder / name).stat().st_size > 0, name

    summary = pd.read_csv(run_folder / "summary.csv")
    assert summary["variant"].tolist() == VARIANT_NAMES
    assert (summary["seeds"] == 2).all()
    for metric in ["test_accuracy", "generalization_gap", "gradient_ratio_epoch_1"]:
        for statistic in ["mean", "std", "ci_low", "ci_high"]:
            assert summary[f"{metric}_{statistic}"].notna().all(), metric
        assert (summary[f"{metric}_ci_low"] <= summary[f"{metric}_mean"]).all()
    assert {"epochs_to_0.95_reached", "diverged_runs"} <= set(summary.columns)

    runs = pd.read_csv(run_folder / "runs.csv")
    assert sorted(zip(runs["variant"], runs["seed"], strict=True)) == sorted(
        (v, s) for v in VARIANT_NAMES for s in (0, 1)
    )
    gap = runs["train_accuracy"] - runs["val_accuracy"]
    assert np.allclose(runs["generalization_gap"], gap)

    paired = pd.read_csv(run_folder / "paired.csv")
    assert set(zip(paired["before"], paired["after"], strict=True)) == {
        ("sigmoid", "relu"),
        ("relu", "relu-batchnorm"),
        ("relu-batchnorm", "relu-batchnorm-dropout"),
    }
    assert set(paired["metric"]) == {
        "test_accuracy",
        "epochs_to_0.95",
        "generalization_gap",
    }

    history = pd.read_csv(run_folder / "history.csv")
    assert list(history.columns) == [
        "variant",
        "seed",
        "epoch",
        "split",
        "metric",
        "value",
    ]
    metrics = set(history["metric"])
    assert {f"gradient_norm_layer_{i}" for i in range(1, 7)} <= metrics
    assert {f"saturated_fraction_layer_{i}" for i in range(1, 6)} <= metrics
    assert {f"dead_fraction_layer_{i}" for i in range(1, 6)} <= metrics
    curves = history[history["metric"].isin(["loss", "accuracy"])]
    assert len(curves) == 4 * 2 * 3 * 2 * 2

    run = json.loads((run_folder / "run.json").read_text())
    assert run["parameters"]["training"]["epochs"] == 3
    assert run["seeds"]["repeats"] == [0, 1]
    assert len(run["seeds"]["weights"]) == 8
    assert run["packages"]["tensorflow"] and run["packages"]["prefect"]
    assert "git_commit" in run and run["started"] < run["finished"]

    report = (run_folder / "report.md").read_text()
    assert "](validation_accuracy.png)" in report
    assert "## Claims checked" in report and "## Beside the reference" in report
    html = (run_folder / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(FIGURES)
    assert "<table>" in html and "http://" not in html and "https://" not in html

    published = artifacts_of(state)
    artifacts = {a.key: a for a in published if a.key}
    assert set(artifacts) == {SUMMARY_KEY, REPORT_KEY, DRIFT_KEY}
    assert artifacts[SUMMARY_KEY].type == "table"
    table = json.loads(artifacts[SUMMARY_KEY].data)
    assert [row["Variant"] for row in table] == [
        VARIANTS[v].title for v in VARIANT_NAMES
    ]
    assert artifacts[REPORT_KEY].type == "markdown"
    assert artifacts[REPORT_KEY].data.count("](data:image/png;base64,") == len(FIGURES)
    # One progress bar per training task, finished, on that task run's page.
    task_names = {run.id: run.name for run in task_runs_of(state)}
    progress = {
        task_names[a.task_run_id]: float(a.data)
        for a in published
        if a.type == "progress"
    }
    assert progress == {
        f"train-{name}-seed-{seed}": 100.0 for name in VARIANT_NAMES for seed in (0, 1)
    }


def test_runs_never_overwrite_each_other(prefect_server, tmp_path):
    short = {"training": {"epochs": 2}, "variants": ["relu"], "seeds": 1}
    _, first = run_study(tmp_path, **short)
    state, second = run_study(tmp_path, **short)

    assert first != second
    assert (first / "report.md").exists() and (second / "report.md").exists()
    assert (tmp_path / "latest").resolve() == second.resolve()

    # The second run is set against the first: same results, so no drift.
    drift = pd.read_csv(second / "drift.csv")
    assert not drift["drifted"].any() and set(drift["variant"]) == {"relu"}
    artifacts = {a.key: a for a in artifacts_of(state) if a.key}
    assert first.name in artifacts[DRIFT_KEY].data
    assert "None of the" in artifacts[DRIFT_KEY].data


def test_changing_a_parameter_retrains_only_what_it_changes(prefect_server, tmp_path):
    two = {"variants": ["sigmoid", "relu"], "seed": 5, "seeds": 1}
    run_study(tmp_path, training={"epochs": 2}, **two)

    longer, _ = run_study(
        tmp_path, training={"epochs": 3}, variants=["relu"], seed=5, seeds=1
    )
    states = task_states_of(longer)
    assert states_named(states, "generate-data") == ["Cached"]
    assert states["train-relu-seed-5"] == "Completed"

    more_seeds, _ = run_study(
        tmp_path, training={"epochs": 2}, variants=["sigmoid"], seed=5, seeds=2
    )
    states = task_states_of(more_seeds)
    assert states["train-sigmoid-seed-5"] == "Cached"
    assert states["train-sigmoid-seed-6"] == "Completed"


def states_named(states: dict[str, str], prefix: str) -> list[str]:
    return [state for name, state in states.items() if name.startswith(prefix)]


@pytest.mark.slow
def test_default_study_tells_the_story_and_is_cached_the_second_time(
    prefect_server, tmp_path
):
    first, run_folder = run_study(tmp_path)
    summary = pd.read_csv(run_folder / "summary.csv").set_index("variant")
    runs = pd.read_csv(run_folder / "runs.csv")

    assert (summary["seeds"] == 5).all() and len(runs) == 20
    assert summary.loc["sigmoid", "test_accuracy_ci_high"] < 0.5
    for name in ["relu", "relu-batchnorm", "relu-batchnorm-dropout"]:
        assert summary.loc[name, "test_accuracy_mean"] >= 0.95, name

    # The vanishing gradient, measured on every seed: orders of magnitude for
    # sigmoid at epoch 1, within one order of magnitude for the ReLU networks.
    ratios = runs.set_index("variant")["gradient_ratio_epoch_1"]
    assert (ratios["sigmoid"] < 1e-2).all()
    for name in ["relu", "relu-batchnorm", "relu-batchnorm-dropout"]:
        assert ratios[name].between(0.1, 10).all(), name

    # Every figure the report quotes from the summary is the summary's.
    report = (run_folder / "report.md").read_text()
    for name, row in summary.iterrows():
        for metric, digits in [("test_accuracy", 3), ("epochs_to_0.95", 1)]:
            if row[f"{metric}_reached" if metric.startswith("epochs") else "seeds"]:
                quoted = (
                    f"{row[f'{metric}_mean']:.{digits}f} "
                    f"[{row[f'{metric}_ci_low']:.{digits}f}, "
                    f"{row[f'{metric}_ci_high']:.{digits}f}]"
                )
                assert quoted in report, (name, metric, quoted)

    second, second_folder = run_study(tmp_path)
    states = task_states_of(second)
    for name in VARIANT_NAMES:
        for seed in range(5):
            assert states[f"train-{name}-seed-{seed}"] == "Cached"
            assert states[f"evaluate-{name}-seed-{seed}"] == "Cached"
    assert states_named(states, "generate-data") == ["Cached"] * 5
    timing = [c for c in summary.columns if c.startswith("train_seconds")]
    pd.testing.assert_frame_equal(
        pd.read_csv(second_folder / "summary.csv").drop(columns=timing),
        pd.read_csv(run_folder / "summary.csv").drop(columns=timing),
    )
