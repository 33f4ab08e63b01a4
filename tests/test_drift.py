import json
import math
from pathlib import Path

import pandas as pd
from prefect import flow

from tasks.compare import Comparison
from tasks.drift import check_drift, drift_markdown, drift_table, previous_run
from tasks.parameters import StudyParameters

METRICS = {
    "test_accuracy": (0.98, 0.97, 0.99),
    "val_accuracy": (0.98, 0.97, 0.99),
    "generalization_gap": (0.0, -0.01, 0.01),
    "test_loss": (0.07, 0.05, 0.09),
    "epochs_to_0.95": (58.0, 52.0, 64.0),
    "gradient_ratio_epoch_1": (0.9, 0.75, 1.1),
}


def summary(single_seed: bool = False, **means) -> pd.DataFrame:
    """One variant's summary row; `means` replace some metrics' means."""
    row = {"variant": "relu", "seeds": 1 if single_seed else 5}
    for metric, (mean, low, high) in METRICS.items():
        row[f"{metric}_mean"] = means.get(metric, mean)
        row[f"{metric}_ci_low"] = math.nan if single_seed else low
        row[f"{metric}_ci_high"] = math.nan if single_seed else high
    return pd.DataFrame([row])


def drifted(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["drifted"], "metric"])


def test_a_mean_outside_the_previous_interval_drifts():
    table = drift_table(summary(), summary(test_accuracy=0.95, test_loss=0.08))

    assert drifted(table) == {"test_accuracy"}
    assert len(table) == len(METRICS)
    assert "1 of 6 figures moved" in drift_markdown(table, previous=Path("x"))


def test_identical_results_do_not_drift():
    table = drift_table(summary(), summary())

    assert drifted(table) == set()
    assert "None of the 6 figures moved" in drift_markdown(table, Path("x"))


def test_single_seed_runs_use_the_stated_tolerances():
    before = summary(single_seed=True)
    after = summary(
        single_seed=True,
        test_accuracy=0.965,  # moved 0.015, within 0.02
        **{"epochs_to_0.95": 70.0},  # moved 12 epochs, beyond 5
        gradient_ratio_epoch_1=0.3,  # a factor 3, beyond 2
    )

    table = drift_table(before, after)

    assert drifted(table) == {"epochs_to_0.95", "gradient_ratio_epoch_1"}
    assert table["drifts_when"].str.contains("no interval").all()
    shown = drift_markdown(table, Path("x"))
    assert "nan" not in shown and "| — | — |" in shown


def test_a_threshold_reached_once_and_never_again_drifts():
    table = drift_table(summary(), summary(**{"epochs_to_0.95": math.nan}))

    assert drifted(table) == {"epochs_to_0.95"}


def test_previous_run_is_the_latest_complete_one_with_the_same_parameters(tmp_path):
    params = StudyParameters(seeds=2)
    write_run(tmp_path, "a", params, finished="2026-01-01T00:00:00")
    write_run(tmp_path, "b", params, finished="2026-02-01T00:00:00")
    write_run(tmp_path, "c", StudyParameters(seeds=3), finished="2026-03-01T00:00:00")
    write_run(tmp_path, "d", params, finished=None)  # never finished
    current = write_run(tmp_path, "e", params, finished="2026-04-01T00:00:00")
    for name, damaged in [("f", "null"), ("g", '["finished"]'), ("h", "{")]:
        write_run(tmp_path, name, params, finished="2026-05-01T00:00:00")
        (tmp_path / "runs" / name / "run.json").write_text(damaged)
    record = json.loads((tmp_path / "runs" / "b" / "run.json").read_text())
    write_run(tmp_path, "i", params, finished="2026-05-01T00:00:00")
    (tmp_path / "runs" / "i" / "run.json").write_text(
        json.dumps({**record, "finished": 12345})
    )

    assert previous_run(tmp_path, params, current).name == "b"
    assert previous_run(tmp_path, StudyParameters(seeds=4), current) is None


def test_a_previous_run_without_this_runs_variants_is_a_warning_not_a_failure(
    prefect_server, tmp_path
):
    params = StudyParameters(seeds=5)
    earlier = write_run(tmp_path, "a", params, finished="2026-01-01T00:00:00")
    summary().assign(variant="zzz").to_csv(earlier / "summary.csv", index=False)
    current = write_run(tmp_path, "b", params, finished="2026-02-01T00:00:00")
    comparison = Comparison(
        runs=pd.DataFrame(),
        summary=summary(),
        paired=pd.DataFrame(),
        history=pd.DataFrame(),
    )

    assert drift_table(pd.read_csv(earlier / "summary.csv"), summary()).empty
    # Tasks log to the server within a flow run.
    in_a_flow = flow(check_drift.fn, name="check-drift-alone")
    assert in_a_flow(params, comparison, tmp_path, current) is None
    assert not (current / "drift.csv").exists()


def test_no_previous_run_makes_this_one_the_baseline():
    assert "this run is the baseline" in drift_markdown(None, None)


def write_run(output_dir, name, params, finished):
    folder = output_dir / "runs" / name
    folder.mkdir(parents=True)
    record = {"parameters": params.model_dump(mode="json")}
    if finished:
        record["finished"] = finished
        summary().to_csv(folder / "summary.csv", index=False)
    (folder / "run.json").write_text(json.dumps(record))
    return folder
