"""The report's sentences and verdicts follow hand-made data, and flip with it."""

import numpy as np
import pandas as pd
import pytest

from tasks.compare import Comparison, compare_pairs, summarize
from tasks.evaluate import Evaluation
from tasks.parameters import StudyParameters
from tasks.report import (
    claims,
    findings,
    fmt,
    markdown_table,
    render_report,
    signed,
)

PARAMS = StudyParameters()
NEVER = np.nan

# Three seeds of made-up results, shaped like the real study's.
RESULTS = {
    "sigmoid": {
        "test_accuracy": [0.333, 0.333, 0.333],
        "train_accuracy": [0.33, 0.34, 0.33],
        "val_accuracy": [0.33, 0.33, 0.33],
        "epochs_to_0.95": [NEVER, NEVER, NEVER],
    },
    "relu": {
        "test_accuracy": [0.98, 0.97, 0.985],
        "train_accuracy": [0.98, 0.98, 0.99],
        "val_accuracy": [0.98, 0.975, 0.985],
        "epochs_to_0.95": [60, 55, 58],
    },
    "relu-batchnorm": {
        "test_accuracy": [0.985, 0.98, 0.99],
        "train_accuracy": [0.99, 0.99, 0.99],
        "val_accuracy": [0.985, 0.98, 0.99],
        "epochs_to_0.95": [15, 12, 14],
    },
    "relu-batchnorm-dropout": {
        "test_accuracy": [0.986, 0.979, 0.991],
        "train_accuracy": [0.985, 0.98, 0.99],
        "val_accuracy": [0.985, 0.98, 0.99],
        "epochs_to_0.95": [13, 12, 15],
    },
}
# Mean gradient norm per layer at epoch 1 (hidden 1 to 5, then output).
SIGMOID_NORMS = [1e-5, 1e-4, 1e-3, 4e-3, 1e-2, 5e-2]
RELU_NORMS = [0.2, 0.25, 0.22, 0.24, 0.21, 0.3]


def comparison(seeds=(0, 1, 2), dead=0.0, sigmoid_norms=SIGMOID_NORMS, **changes):
    """A Comparison built from RESULTS, with some variants' results replaced."""
    results = {variant: dict(values) for variant, values in RESULTS.items()}
    for variant, values in changes.items():
        results.setdefault(variant.replace("_", "-"), {}).update(values)

    runs, history = [], []
    for variant, values in results.items():
        norms = sigmoid_norms if variant == "sigmoid" else RELU_NORMS
        for index, seed in enumerate(seeds):
            row = {"variant": variant, "seed": seed}
            row.update({metric: values[metric][index] for metric in values})
            row["test_loss"] = 1 - row["test_accuracy"]
            row["generalization_gap"] = row["train_accuracy"] - row["val_accuracy"]
            row["epochs_to_0.90"] = row["epochs_to_0.95"]
            row["gradient_ratio_epoch_1"] = norms[0] / norms[4]
            row["gradient_ratio_last_epoch"] = norms[0] / norms[4]
            row["diverged_at_epoch"] = None
            row["train_seconds"] = 1.0
            runs.append(row)
            history += history_rows(variant, seed, norms, dead)

    runs = pd.DataFrame(runs)
    for column in ["epochs_to_0.90", "epochs_to_0.95", "diverged_at_epoch"]:
        runs[column] = runs[column].astype("Int64")
    return Comparison(
        runs=runs,
        summary=summarize(runs, epochs=100),
        paired=compare_pairs(runs, epochs=100),
        history=pd.DataFrame(history),
    )


def history_rows(variant, seed, norms, dead):
    rows = [
        {
            "variant": variant,
            "seed": seed,
            "epoch": 1,
            "split": "train",
            "metric": f"gradient_norm_layer_{layer}",
            "value": norm,
        }
        for layer, norm in enumerate(norms, start=1)
    ]
    unit_metric = "saturated" if variant == "sigmoid" else "dead"
    rows += [
        {
            "variant": variant,
            "seed": seed,
            "epoch": 1,
            "split": "validation",
            "metric": f"{unit_metric}_fraction_layer_{layer}",
            "value": 0.0 if variant == "sigmoid" else dead,
        }
        for layer in range(1, 6)
    ]
    return rows


def figure_links(frame: Comparison) -> dict[str, str]:
    names = ["dataset", "gradients_epoch_1", "unit_health", "validation_accuracy"]
    names += ["decision_boundaries"]
    names += [f"{kind}_{v}" for kind in ("curves", "gradients") for v in frame.variants]
    return {name: f"{name}.png" for name in names}


def text(frame: Comparison) -> str:
    return "\n".join(
        sentence
        for sentences in findings(frame, PARAMS).values()
        for sentence in sentences
    )


def verdicts(frame: Comparison, params=PARAMS) -> dict[str, str]:
    table = claims(frame, params)
    return dict(zip(table["Claim"], table["Verdict"], strict=True))


def verdict_on(frame: Comparison, start: str, params=PARAMS) -> str:
    (verdict,) = [
        v for claim, v in verdicts(frame, params).items() if claim.startswith(start)
    ]
    return verdict


def test_findings_follow_the_numbers():
    report = text(comparison())

    assert "**Sigmoid** stayed near chance" in report
    assert "**ReLU** learned the spirals" in report
    assert "Replacing sigmoid by ReLU raised test accuracy by 0.645" in report
    assert (
        "Adding BatchNormalization after the first hidden layer cut the epochs "
        "needed to reach 0.95 validation accuracy by 44.0 on average over 3 "
        "paired seeds" in report
    )
    assert "vanished on its way back to the input" in report


def test_a_slower_batchnorm_gives_the_opposite_sentence_and_verdict():
    slower = comparison(relu_batchnorm={"epochs_to_0.95": [80, 85, 90]})

    assert "after the first hidden layer added to the epochs" in text(slower)
    assert "cut the epochs" not in text(slower)
    assert verdict_on(slower, "BatchNorm converges faster") == "not supported"
    assert verdict_on(comparison(), "BatchNorm converges faster") == "supported"


def test_dropout_verdict_follows_the_size_of_its_effect():
    same = comparison()
    assert "Adding Dropout made no detectable difference to test accuracy" in text(same)
    assert verdict_on(same, "Dropout adds little") == "supported"

    better = comparison(
        relu_batchnorm_dropout={"test_accuracy": [0.999, 0.998, 0.999]},
        relu_batchnorm={"test_accuracy": [0.95, 0.94, 0.955]},
    )
    assert "Adding Dropout raised test accuracy by 0.050" in text(better)
    assert verdict_on(better, "Dropout adds little") == "not supported"


def test_dropout_without_any_gain_is_said_so():
    def dropout_evidence(frame: Comparison) -> str:
        table = claims(frame, PARAMS)
        (evidence,) = table.loc[
            table["Claim"].str.startswith("Dropout adds little"), "Evidence"
        ]
        return evidence

    worse = comparison(relu_batchnorm_dropout={"test_accuracy": [0.984, 0.979, 0.989]})

    assert verdict_on(worse, "Dropout adds little") == "supported"
    assert "Dropout added no test accuracy at all" in dropout_evidence(worse)
    assert "added no test accuracy" not in dropout_evidence(comparison())


def test_seed_spread_names_a_widest_variant_only_when_the_figures_differ():
    assert "varied most for ReLU" in text(comparison())

    same_spread = comparison(
        sigmoid={"test_accuracy": [0.31, 0.33, 0.35]},
        relu={"test_accuracy": [0.96, 0.98, 1.00]},
        relu_batchnorm={"test_accuracy": [0.95, 0.97, 0.99]},
        relu_batchnorm_dropout={"test_accuracy": [0.94, 0.96, 0.98]},
    )
    assert "varied most" not in text(same_spread)
    assert "varied alike for every variant (standard deviation 0.020)" in text(
        same_spread
    )


def test_the_vanishing_gradient_claims_follow_the_norms():
    assert verdict_on(comparison(), "With sigmoid, gradients shrink") == "supported"

    growing = comparison(sigmoid_norms=list(reversed(SIGMOID_NORMS)))
    assert verdict_on(growing, "With sigmoid, gradients shrink") == "not supported"
    assert verdict_on(comparison(), "ReLU fixes it") == "supported"


def test_dead_units_are_reported_only_when_seen():
    assert verdict_on(comparison(), "ReLU units can die") == "not supported"
    assert "at the last epoch, in every seed, no hidden unit was dead" in text(
        comparison()
    )

    dying = comparison(dead=0.25)
    assert verdict_on(dying, "ReLU units can die") == "supported"
    assert "25% of its units dead" in text(dying)


def test_batchnorm_placement_is_tested_only_when_its_variant_ran():
    assert verdict_on(comparison(), "BatchNorm after the first") == "not tested"

    every_layer = {
        "test_accuracy": [0.97, 0.965, 0.975],
        "train_accuracy": [0.97, 0.97, 0.98],
        "val_accuracy": [0.97, 0.96, 0.97],
        "epochs_to_0.95": [30, 28, 33],
    }
    tried = comparison(relu_batchnorm_every_layer=every_layer)
    assert verdict_on(tried, "BatchNorm after the first") == "supported"
    assert "to before every hidden layer added to the epochs" in text(tried)


def test_one_seed_reports_no_interval_and_tests_no_pairwise_claim():
    single = comparison(seeds=(0,))
    report = text(single)

    assert "with a single seed there is no interval, so no conclusion" in report
    assert "This run has one seed" in report
    assert verdict_on(single, "ReLU fixes it") == "not tested"
    assert verdict_on(single, "BatchNorm converges faster") == "not tested"
    assert verdict_on(single, "The sigmoid network does not learn") == "supported"


def test_the_whole_report_renders_with_its_sections_and_figures():
    frame = comparison()
    evaluations = [
        Evaluation(
            variant=row.variant,
            seed=row.seed,
            test_loss=row.test_loss,
            test_accuracy=row.test_accuracy,
            confusion=np.eye(3, dtype=int) * 100,
            epochs_to={},
            decision_grid=None,
        )
        for row in frame.runs.itertuples()
    ]
    figures = figure_links(frame)

    report = render_report(PARAMS, frame, evaluations, figures, "test-run")

    for heading in [
        "## Findings",
        "### The activation function and the vanishing gradient",
        "### What BatchNormalization brings",
        "### Dropout and generalization",
        "### Other observations",
        "## Claims checked",
        "## Beside the reference solution",
        "## Reproduce",
    ]:
        assert heading in report, heading
    for name in figures:
        assert f"]({name}.png)" in report, name
    # Confusion matrices are summed over the three seeds' test sets.
    assert "| 0 | 300 | 0 | 0 |" in report
    assert "0.9933" in report  # the reference's ReLU test accuracy, as data


@pytest.mark.parametrize("seeds", [(0,), (0, 1, 2)])
def test_reference_table_says_whether_the_published_figure_is_inside(seeds):
    frame = comparison(seeds=seeds)

    report = render_report(PARAMS, frame, [], figure_links(frame), "r")

    reference = report.split("## Beside the reference solution")[1].split("\n## ")[0]
    # The reference's sigmoid test accuracy, 0.2867, lies below 0.333 on every seed.
    sigmoid = next(line for line in reference.splitlines() if "| Sigmoid |" in line)
    assert ("| — |" if len(seeds) == 1 else "| no |") in sigmoid


def test_table_cells_tell_missing_from_not_a_number():
    table = markdown_table(
        pd.DataFrame(
            {
                "a": [float("nan"), 1.5, 123456.0],
                "b": pd.array([None, 2, 3], dtype="Int64"),
            }
        )
    )

    assert "| nan | — |" in table
    assert "| 1.5000 | 2 |" in table
    assert "1.23e+05" in table


def test_a_threshold_reached_by_one_network_only_is_counted_not_dropped():
    frame = comparison(relu={"epochs_to_0.95": [NEVER, NEVER, NEVER]})
    pair = frame.paired[
        (frame.paired["after"] == "relu-batchnorm")
        & (frame.paired["metric"] == "epochs_to_0.95")
    ].iloc[0]

    # "Never" counts as epoch 101: 101 - 15, 101 - 12 and 101 - 14 epochs sooner.
    assert (pair["pairs"], pair["censored"]) == (3, 3)
    assert pair["mean_difference"] == pytest.approx(-(101 - 41 / 3))
    assert "the true difference is at least this large" in text(frame)
    assert verdict_on(frame, "BatchNorm converges faster") == "supported"


def test_intervals_stay_within_what_a_metric_can_be():
    frame = comparison(
        relu={"test_accuracy": [0.999, 0.93, 1.0], "epochs_to_0.95": [2, 90, 3]}
    )
    relu = frame.summary.set_index("variant").loc["relu"]

    assert relu["test_accuracy_ci_high"] == 1.0
    assert relu["epochs_to_0.95_ci_low"] == 1.0


def evidence_on(frame: Comparison, start: str) -> str:
    table = claims(frame, PARAMS)
    (evidence,) = table.loc[table["Claim"].str.startswith(start), "Evidence"]
    return evidence


def test_an_interval_too_wide_to_tell_supports_no_claim_and_says_why():
    wide = comparison(
        relu_batchnorm_dropout={"test_accuracy": [0.95, 0.999, 0.93]},
    )
    assert verdict_on(wide, "Dropout adds little") == "not supported"
    assert "too wide to tell" in evidence_on(wide, "Dropout adds little")

    unclear = comparison(relu_batchnorm={"epochs_to_0.95": [15, 80, 40]})
    assert verdict_on(unclear, "BatchNorm converges faster") == "not supported"
    assert "contains 0" in evidence_on(unclear, "BatchNorm converges faster")

    slower = comparison(relu_batchnorm={"epochs_to_0.95": [80, 85, 90]})
    assert "goes the other way" in evidence_on(slower, "BatchNorm converges faster")


def test_censored_seeds_without_a_detectable_difference_are_called_bounds():
    frame = comparison(
        seeds=(0, 1),
        relu={"epochs_to_0.95": [NEVER, NEVER]},
        relu_batchnorm={"epochs_to_0.95": [60, 99]},
    )
    report = text(frame)

    assert (
        "Adding BatchNormalization after the first hidden layer made no detectable "
        "difference to the epochs"
    ) in report
    assert "those differences are bounds" in report
    assert "at least this large" not in report


def test_a_negative_gap_is_explained_only_when_its_interval_is_below_zero():
    assert "The generalization gap was negative" not in text(comparison())

    lagging = comparison(
        relu={"train_accuracy": [0.95, 0.96, 0.955], "val_accuracy": [0.98] * 3}
    )
    assert (
        "The generalization gap was negative (interval wholly below 0) for ReLU, "
        "its validation accuracy beat its training accuracy"
    ) in text(lagging)

    unclear = comparison(
        relu={"train_accuracy": [0.95, 0.99, 0.96], "val_accuracy": [0.98] * 3}
    )
    assert "The generalization gap was negative" not in text(unclear)


def test_the_reference_comparison_warns_when_the_settings_differ():
    frame = comparison()
    short = PARAMS.model_copy(
        update={"training": PARAMS.training.model_copy(update={"epochs": 20})}
    )

    assert "settings differ" not in render_report(
        PARAMS, frame, [], figure_links(frame), "r"
    )
    warned = render_report(short, frame, [], figure_links(frame), "r")
    assert "settings differ from the reference's (epochs 20 against 100)" in warned


def test_a_variant_that_diverged_in_every_seed_is_not_compared():
    frame = comparison()
    runs = frame.runs.assign(
        diverged_at_epoch=[2 if v == "relu" else None for v in frame.runs["variant"]]
    )
    runs["diverged_at_epoch"] = runs["diverged_at_epoch"].astype("Int64")
    diverged = Comparison(
        runs=runs,
        summary=summarize(runs, epochs=100),
        paired=compare_pairs(runs, epochs=100),
        history=frame.history,
    )

    assert "Sigmoid and ReLU are not compared" in text(diverged)
    assert "**ReLU** diverged in every seed" in text(diverged)
    assert "**ReLU** stayed near chance" not in text(diverged)
    assert verdict_on(diverged, "ReLU fixes it") == "not tested"
    assert verdict_on(diverged, "BatchNorm converges faster") == "not tested"


def test_a_diverged_seed_is_left_out_of_the_comparisons():
    frame = comparison()
    runs = frame.runs.copy()
    diverged = (runs["variant"] == "relu") & (runs["seed"] == 2)
    runs["diverged_at_epoch"] = pd.array(
        [3 if d else None for d in diverged], dtype="Int64"
    )
    runs.loc[diverged, ["test_accuracy", "generalization_gap"]] = np.nan
    partly = Comparison(
        runs=runs,
        summary=summarize(runs, epochs=100),
        paired=compare_pairs(runs, epochs=100),
        history=frame.history,
    )
    pairs = partly.paired.set_index(["before", "after", "metric"])["pairs"]

    assert pairs[("sigmoid", "relu", "test_accuracy")] == 2
    assert pairs[("relu", "relu-batchnorm", "test_accuracy")] == 2
    assert "leave out the accuracies of 1 diverged run" in text(partly)
    assert "It diverged in 1 of 3 seeds" in text(partly)


def test_figures_read_the_same_whatever_their_sign_or_trailing_zeros():
    assert fmt(-0.0002, "test_accuracy") == "0.000"
    assert signed(0.0004, "test_accuracy") == "0.000"
    assert signed(0.002, "test_accuracy") == "+0.002"
    assert signed(-0.5, "epochs_to_0.95") == "-0.5"
    assert fmt(1.0, "gradient_ratio_epoch_1") == "1.0"
    assert fmt(0.00068, "gradient_ratio_epoch_1") == "0.00068"
