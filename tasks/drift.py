"""Stage 6: compare this run with the previous run of the same parameters.

A scheduled rerun exists to notice when the study's results move as libraries
and machines change. Each run is set against the latest earlier completed run
in the same output folder whose parameters are identical: a metric drifts when
its mean falls outside the previous run's 95% interval or, when the runs have a
single seed and so no interval, when it moves by more than a stated tolerance.
Drift is published as an artifact and logged; it never fails the run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tasks.compare import Comparison
from tasks.parameters import StudyParameters
from tasks.report import markdown_table

DRIFT_KEY = "vanishing-gradients-drift"

# Largest change of a single-seed metric that is not called drift.
TOLERANCES = {
    "test_accuracy": 0.02,
    "val_accuracy": 0.02,
    "generalization_gap": 0.02,
    "test_loss": 0.05,
    "epochs_to_0.95": 5.0,
    "gradient_ratio_epoch_1": None,  # compared on a log scale: see drifted()
}
DRIFT_COLUMNS = [
    "variant",
    "metric",
    "previous_mean",
    "previous_ci_low",
    "previous_ci_high",
    "current_mean",
    "drifts_when",
    "drifted",
]
# A single-seed gradient ratio drifts when it changes by more than this factor.
RATIO_FACTOR = 2.0


def run_records(output_dir: Path) -> tuple[list[tuple[Path, dict]], list[Path]]:
    """The run folders' records, and the folders whose run.json cannot be read."""
    records, unreadable = [], []
    for record in sorted((output_dir / "runs").glob("*/run.json")):
        folder = record.parent
        if folder.name.startswith("."):
            continue
        try:
            run = json.loads(record.read_text())
        except (OSError, ValueError):
            unreadable.append(folder)
            continue
        if not isinstance(run, dict):
            unreadable.append(folder)
            continue
        records.append((folder, run))
    return records, unreadable


def previous_run(
    output_dir: Path, params: StudyParameters, current: Path
) -> Path | None:
    """The latest earlier completed run folder with exactly these parameters."""
    wanted = params.model_dump(mode="json")
    candidates = []
    for folder, run in run_records(output_dir)[0]:
        if folder.resolve() == current.resolve():
            continue
        if not isinstance(run.get("finished"), str):
            continue
        if (folder / "summary.csv").exists() and run.get("parameters") == wanted:
            candidates.append((run["finished"], folder))
    return max(candidates)[1] if candidates else None


def drifted(metric: str, previous: pd.Series, current_mean: float) -> bool | None:
    """Whether `current_mean` left the previous run's interval or tolerance."""
    before = previous[f"{metric}_mean"]
    if not (math.isfinite(before) and math.isfinite(current_mean)):
        # A threshold reached in one run and never in the other has moved.
        return math.isfinite(before) != math.isfinite(current_mean)
    low, high = previous[f"{metric}_ci_low"], previous[f"{metric}_ci_high"]
    if math.isfinite(low):
        # The previous figures went through a CSV file: allow its rounding.
        slack = 1e-9 * max(1.0, abs(before))
        return not low - slack <= current_mean <= high + slack
    if metric == "gradient_ratio_epoch_1":
        if before <= 0 or current_mean <= 0:
            return before != current_mean
        return abs(math.log(current_mean / before)) > math.log(RATIO_FACTOR)
    return abs(current_mean - before) > TOLERANCES[metric]


def drift_table(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Per variant and metric: previous and current values, and the verdict."""
    before = previous.set_index("variant")
    rows = []
    for _, now in current.iterrows():
        variant = now["variant"]
        if variant not in before.index:
            continue
        for metric in TOLERANCES:
            earlier = before.loc[variant]
            has_interval = math.isfinite(earlier[f"{metric}_ci_low"])
            rows.append(
                {
                    "variant": variant,
                    "metric": metric,
                    "previous_mean": earlier[f"{metric}_mean"],
                    "previous_ci_low": earlier[f"{metric}_ci_low"],
                    "previous_ci_high": earlier[f"{metric}_ci_high"],
                    "current_mean": now[f"{metric}_mean"],
                    "drifts_when": "outside the previous 95% interval"
                    if has_interval
                    else tolerance_rule(metric),
                    "drifted": drifted(metric, earlier, now[f"{metric}_mean"]),
                }
            )
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)


def tolerance_rule(metric: str) -> str:
    if metric == "gradient_ratio_epoch_1":
        return f"changed by more than a factor {RATIO_FACTOR:g} (no interval)"
    return f"moved by more than {TOLERANCES[metric]:g} (no interval)"


def drift_markdown(table: pd.DataFrame | None, previous: Path | None) -> str:
    if table is None or previous is None:
        return (
            "# Drift\n\nNo earlier completed run with the same parameters was found "
            "in this output folder: this run is the baseline the next one is "
            "compared with.\n"
        )
    moved = table[table["drifted"]]
    limit = "the previous run's 95% interval, or the tolerance where it had none"
    verdict = (
        f"{len(moved)} of {len(table)} figures moved beyond {limit}."
        if len(moved)
        else f"None of the {len(table)} figures moved beyond {limit}."
    )
    shown = table.assign(drifted=table["drifted"].map({True: "**yes**", False: "no"}))
    # A single-seed run has no interval: its bounds show as a dash, not nan.
    shown = shown.astype(object).where(shown.notna(), None)
    return "\n".join(
        [
            "# Drift",
            "",
            "Compared with the previous run of the same parameters, "
            f"`{previous.name}`. {verdict}",
            "",
            markdown_table(shown),
            "",
        ]
    )


@task(name="check-drift", cache_policy=NO_CACHE, persist_result=False)
def check_drift(
    params: StudyParameters,
    comparison: Comparison,
    output_dir: Path,
    run_folder: Path,
) -> pd.DataFrame | None:
    """Compare with the previous run of these parameters; publish the drift."""
    logger = get_run_logger()
    previous = previous_run(Path(output_dir), params, run_folder)
    table = None
    unreadable = run_records(Path(output_dir))[1]
    if unreadable:
        logger.warning(
            "Drift: skipped %d run %s whose run.json could not be read: %s",
            len(unreadable),
            "folder" if len(unreadable) == 1 else "folders",
            ", ".join(folder.name for folder in unreadable),
        )

    if previous is None:
        logger.info("Drift: no earlier run with these parameters; this is the baseline")
    else:
        # Whatever is wrong with an earlier run's files, this run stands.
        try:
            earlier = pd.read_csv(previous / "summary.csv")
            if earlier["variant"].duplicated().any():
                raise ValueError("a variant appears twice")
            table = drift_table(earlier, comparison.summary)
            if table.empty:
                raise ValueError("it has none of this run's variants")
        except Exception as error:
            logger.warning("Drift: could not read %s (%s)", previous, error)
            previous, table = None, None
    if table is not None:
        table.to_csv(run_folder / "drift.csv", index=False)
        moved = table[table["drifted"]]
        if len(moved):
            logger.warning(
                "Drift against %s in %d figures:\n%s",
                previous.name,
                len(moved),
                moved.to_string(index=False),
            )
        else:
            logger.info("Drift: none against %s", previous.name)

    create_markdown_artifact(
        markdown=drift_markdown(table, previous),
        key=DRIFT_KEY,
        description="This run's results against the previous run of its parameters.",
    )
    return table
