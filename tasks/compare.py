"""Stage 4: put the variants side by side, over every seed, with intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from prefect import task
from prefect.logging import get_run_logger

from tasks.caching import stage_cache
from tasks.evaluate import ACCURACY_THRESHOLDS, Evaluation
from tasks.statistics import estimate, paired_difference
from tasks.train import TrainedModel

# Each strategy against the one it adds to, as the study builds them up.
PAIRS = [
    ("sigmoid", "relu"),
    ("relu", "relu-batchnorm"),
    ("relu-batchnorm", "relu-batchnorm-dropout"),
    ("relu-batchnorm", "relu-batchnorm-every-layer"),
]
PAIRED_METRICS = ["test_accuracy", "epochs_to_0.95", "generalization_gap"]
NO_DIFFERENCE = "no detectable difference"


def threshold_column(threshold: float) -> str:
    return f"epochs_to_{threshold:.2f}"


SUMMARY_METRICS = [
    "test_accuracy",
    "test_loss",
    "train_accuracy",
    "val_accuracy",
    "generalization_gap",
    *[threshold_column(t) for t in ACCURACY_THRESHOLDS],
    "gradient_ratio_epoch_1",
    "gradient_ratio_last_epoch",
    "train_seconds",
]
# The figures of a run that diverged: missing, whatever its last epoch logged.
DIVERGED_MISSING = [
    "train_accuracy",
    "train_loss",
    "val_accuracy",
    "val_loss",
    "generalization_gap",
    "test_accuracy",
    "test_loss",
]


@dataclass(frozen=True)
class Comparison:
    """The study's tables.

    `runs`: one row per (variant, seed). `summary`: one row per variant, each
    metric's mean, standard deviation and 95% interval across seeds. `paired`:
    each strategy against the one before it, seed by seed. `history`: tidy
    per-epoch metrics of every run.
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    history: pd.DataFrame

    @property
    def variants(self) -> list[str]:
        return self.summary["variant"].tolist()

    @property
    def seeds(self) -> list[int]:
        return sorted(self.runs["seed"].unique().tolist())


def gradient_ratio(history: pd.DataFrame, row: int) -> float:
    """First hidden layer's gradient norm over the last hidden layer's, at a row."""
    layers = [c for c in history.columns if c.startswith("gradient_norm_layer_")]
    last_hidden = f"gradient_norm_layer_{len(layers) - 1}"
    first = float(history["gradient_norm_layer_1"].iloc[row])
    last = float(history[last_hidden].iloc[row])
    # A diverged epoch's norms are not numbers, nor is their ratio.
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0:
        return math.nan
    return first / last


def run_row(model: TrainedModel, evaluation: Evaluation) -> dict:
    """The figures of one trained variant on one seed."""
    history = model.history_frame
    last_epoch = history.iloc[-1]
    row = {
        "variant": model.variant,
        "seed": model.seed,
        "train_accuracy": last_epoch["accuracy"],
        "train_loss": last_epoch["loss"],
        "val_accuracy": last_epoch["val_accuracy"],
        "val_loss": last_epoch["val_loss"],
        "generalization_gap": last_epoch["accuracy"] - last_epoch["val_accuracy"],
        "test_accuracy": evaluation.test_accuracy,
        "test_loss": evaluation.test_loss,
    }
    for threshold, epoch in evaluation.epochs_to.items():
        row[threshold_column(threshold)] = epoch
    row["gradient_ratio_epoch_1"] = gradient_ratio(history, 0)
    row["gradient_ratio_last_epoch"] = gradient_ratio(history, -1)
    row["diverged_at_epoch"] = model.diverged_at
    row["train_seconds"] = model.train_seconds
    if model.diverged_at is not None:
        # What a model with weights that are not numbers predicts measures nothing.
        for metric in DIVERGED_MISSING:
            row[metric] = math.nan
    return row


def possible_range(metric: str, epochs: int) -> tuple[float, float]:
    """The values a metric can take, to keep its interval within them."""
    if metric.endswith("accuracy"):
        return 0.0, 1.0
    if metric == "generalization_gap":
        return -1.0, 1.0
    if metric.startswith("epochs_to_"):
        return 1.0, float(epochs)
    return 0.0, math.inf


def summarize(runs: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """One row per variant: each metric's mean, std and 95% interval over seeds.

    An epoch threshold that some seeds never reached is summarized over the
    seeds that did; `<threshold>_reached` counts them. A Student-t interval
    from few seeds can reach past what a metric can be (an accuracy above 1);
    it is cut at the metric's possible range.
    """
    rows = []
    for variant, group in runs.groupby("variant", sort=False):
        row: dict[str, object] = {"variant": variant, "seeds": len(group)}
        for metric in SUMMARY_METRICS:
            values = group[metric].astype("float64")
            result = estimate(values)
            lowest, highest = possible_range(metric, epochs)
            row[f"{metric}_mean"] = result.mean
            row[f"{metric}_std"] = result.std
            row[f"{metric}_ci_low"] = max(result.ci_low, lowest)
            row[f"{metric}_ci_high"] = min(result.ci_high, highest)
            if metric.startswith("epochs_to_"):
                row[f"{metric}_reached"] = int(values.notna().sum())
        row["diverged_runs"] = int(group["diverged_at_epoch"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(difference) -> str:
    if difference.n == 0:
        return "no pairs"
    if not difference.has_interval:
        return "one pair: no interval"
    if difference.ci_low > 0:
        return "higher"
    if difference.ci_high < 0:
        return "lower"
    return NO_DIFFERENCE


def compare_pairs(runs: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Mean paired difference (after - before) per seed, for each strategy step.

    For epochs to a threshold, a seed where one network reached it and the other
    never did is counted with `epochs + 1` for "never" (`censored` counts such
    seeds): the true difference is at least that large, so the comparison is
    conservative instead of losing the seed. Seeds where neither reached it drop
    out.
    """
    rows = []
    present = set(runs["variant"])
    by_seed = runs.pivot(index="seed", columns="variant")
    for before, after in PAIRS:
        if before not in present or after not in present:
            continue
        for metric in PAIRED_METRICS:
            first = by_seed[metric][before].astype("float64")
            second = by_seed[metric][after].astype("float64")
            censored = 0
            if metric.startswith("epochs_to_"):
                one_never = first.isna() != second.isna()
                censored = int(one_never.sum())
                first = first.where(~one_never, first.fillna(epochs + 1))
                second = second.where(~one_never, second.fillna(epochs + 1))
            difference = paired_difference(first, second)
            rows.append(
                {
                    "before": before,
                    "after": after,
                    "metric": metric,
                    "pairs": difference.n,
                    "censored": censored,
                    "mean_difference": difference.mean,
                    "ci_low": difference.ci_low,
                    "ci_high": difference.ci_high,
                    "verdict": verdict(difference),
                }
            )
    columns = ["before", "after", "metric", "pairs", "censored", "mean_difference"]
    return pd.DataFrame(rows, columns=[*columns, "ci_low", "ci_high", "verdict"])


def tidy_history(trained: TrainedModel) -> pd.DataFrame:
    """One row per (variant, seed, epoch, split, metric)."""
    long = trained.history_frame.melt(
        id_vars="epoch", var_name="series", value_name="value"
    )
    is_validation = long["series"].str.startswith("val_")
    return pd.DataFrame(
        {
            "variant": trained.variant,
            "seed": trained.seed,
            "epoch": long["epoch"].astype(int),
            "split": is_validation.map({True: "validation", False: "train"}),
            "metric": long["series"].str.removeprefix("val_"),
            "value": long["value"],
        }
    )


@task(
    name="compare-variants",
    cache_policy=stage_cache("tasks.compare", "tasks.statistics"),
    persist_result=True,
)
def compare_variants(
    trained: list[TrainedModel], evaluations: list[Evaluation], epochs: int
) -> Comparison:
    """Per-run figures, their summary over seeds, and paired differences."""
    runs = pd.DataFrame(
        [
            run_row(model, evaluation)
            for model, evaluation in zip(trained, evaluations, strict=True)
        ]
    )
    for column in runs.columns:
        if column.startswith("epochs_to_") or column == "diverged_at_epoch":
            runs[column] = runs[column].astype("Int64")

    comparison = Comparison(
        runs=runs,
        summary=summarize(runs, epochs),
        paired=compare_pairs(runs, epochs),
        history=pd.concat(
            [tidy_history(model) for model in trained], ignore_index=True
        ),
    )
    seeds = len(comparison.seeds)
    get_run_logger().info(
        "Compared %d variants over %d seed%s",
        len(comparison.variants),
        seeds,
        "" if seeds == 1 else "s",
    )
    return comparison
