"""The study's report as Markdown, its sentences chosen by this run's numbers."""

from __future__ import annotations

import math

import pandas as pd

from tasks.compare import NO_DIFFERENCE, Comparison, threshold_column
from tasks.evaluate import Evaluation
from tasks.parameters import (
    SpiralParameters,
    StudyParameters,
    TrainingParameters,
    command_line,
)
from tasks.reference import REFERENCE_RESULTS, SOURCE
from tasks.variants import VARIANTS

EPOCHS_TO = threshold_column(0.95)
# How close to chance a network must stay to count as not having learned.
NEAR_CHANCE = 0.1
# Dropout "adds little": its gain in test accuracy stays below this.
LITTLE = 0.01

METRIC_WORDS = {
    "test_accuracy": "test accuracy",
    "test_loss": "test loss",
    "train_accuracy": "train accuracy (last epoch)",
    "val_accuracy": "validation accuracy (last epoch)",
    "generalization_gap": "generalization gap (train − validation accuracy)",
    "epochs_to_0.90": "epochs to 0.90 validation accuracy",
    "epochs_to_0.95": "epochs to 0.95 validation accuracy",
    "gradient_ratio_epoch_1": "first/last hidden gradient norm, epoch 1",
    "gradient_ratio_last_epoch": "first/last hidden gradient norm, last epoch",
    "train_seconds": "training wall time (s), tasks sharing the cores",
}


def title(variant: str) -> str:
    return VARIANTS[variant].title


def fmt(value: float, metric: str) -> str:
    """A figure in the precision its metric deserves."""
    if not math.isfinite(value):
        return str(value)
    if metric.startswith("gradient_ratio"):
        # Two significant digits, trailing zeros kept: 1.0, not 1, beside 1.1.
        text = f"{value:#.2g}".rstrip(".")
    elif metric.startswith("epochs_to") or metric == "train_seconds":
        text = f"{value:.1f}"
    else:
        text = f"{value:.3f}"
    # A value that rounds to zero reads 0.000, whichever side it came from.
    return text.removeprefix("-") if float(text) == 0 else text


def signed(value: float, metric: str) -> str:
    if not math.isfinite(value):
        return "—"
    text = fmt(value, metric)
    return "+" + text if value > 0 and float(text) != 0 else text


def interval(low: float, high: float, metric: str) -> str:
    if not math.isfinite(low):
        return "no interval"
    return f"[{fmt(low, metric)}, {fmt(high, metric)}]"


def estimate_text(row: pd.Series, metric: str, with_reached: bool = True) -> str:
    """`mean [low, high]` of a summary row's metric; `never` if no seed reached."""
    mean = row[f"{metric}_mean"]
    reached = row.get(f"{metric}_reached")
    if reached == 0:
        return f"never (0/{row['seeds']})"
    if not math.isfinite(mean):
        return "—"
    text = fmt(mean, metric)
    if row["seeds"] > 1:
        low, high = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
        # Seeds that diverged leave fewer values than seeds, perhaps only one.
        text += " " + (
            interval(low, high, metric) if math.isfinite(low) else "(one seed)"
        )
    if with_reached and reached is not None and reached < row["seeds"]:
        text += f" ({reached}/{row['seeds']} seeds reached it)"
    return text


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; missing values read as an em dash."""

    def cell(value: object) -> str:
        if value is None or value is pd.NA:
            return "—"
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, float):
            return f"{value:.4f}" if 1e-2 <= abs(value) < 1e4 else f"{value:.3g}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join(cell(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def short_summary(comparison: Comparison) -> pd.DataFrame:
    """The opening table: the figures the study's conclusions rest on."""
    rows = []
    for _, row in comparison.summary.iterrows():
        rows.append(
            {
                "Variant": title(row["variant"]),
                "Test accuracy": estimate_text(row, "test_accuracy"),
                "Epochs to 0.95 val. acc.": estimate_text(row, EPOCHS_TO),
                "Generalization gap": estimate_text(row, "generalization_gap"),
                "First/last hidden gradient, epoch 1": estimate_text(
                    row, "gradient_ratio_epoch_1"
                ),
                "Diverged runs": f"{row['diverged_runs']}/{row['seeds']}",
            }
        )
    return pd.DataFrame(rows)


def detailed_summary(comparison: Comparison) -> pd.DataFrame:
    """Every summarized metric (rows) for every variant (columns)."""
    table = {"Metric": list(METRIC_WORDS.values())}
    for _, row in comparison.summary.iterrows():
        table[title(row["variant"])] = [
            estimate_text(row, metric) for metric in METRIC_WORDS
        ]
    return pd.DataFrame(table)


def pair_row(comparison: Comparison, before: str, after: str, metric: str):
    rows = comparison.paired[
        (comparison.paired["before"] == before)
        & (comparison.paired["after"] == after)
        & (comparison.paired["metric"] == metric)
    ]
    return None if rows.empty else rows.iloc[0]


def difference_sentence(
    comparison: Comparison, before: str, after: str, metric: str, change: str
) -> str | None:
    """What `change` did to `metric`, seed by seed, with its interval."""
    pair = pair_row(comparison, before, after, metric)
    if pair is None:
        return None
    words = {
        "test_accuracy": ("test accuracy", "raised", "lowered"),
        EPOCHS_TO: (
            "the epochs needed to reach 0.95 validation accuracy",
            "added to",
            "cut",
        ),
        "generalization_gap": (
            "the generalization gap (train minus validation accuracy)",
            "widened",
            "narrowed",
        ),
    }
    what, up, down = words[metric]
    change = change[0].upper() + change[1:]
    if pair["pairs"] == 0:
        return (
            f"{change}: {what} cannot be compared, since in no seed "
            "did either network reach 0.95 validation accuracy."
        )
    size = fmt(abs(pair["mean_difference"]), metric)
    seeds = f"{pair['pairs']} paired {plural(pair['pairs'], 'seed')}"
    bounds = (
        f"95% CI {signed(pair['ci_low'], metric)} to {signed(pair['ci_high'], metric)}"
    )
    censored = ""
    if pair.get("censored", 0):
        censored = (
            f" In {pair['censored']} of those {plural(pair['pairs'], 'seed')} only "
            "one of the two networks reached it; the other's epochs were counted "
            "as one more than the run had"
        )
        censored += (
            ", so the true difference is at least this large."
            if pair["verdict"] in ("higher", "lower")
            else ": those differences are bounds, and more epochs or seeds could tell."
        )
    if pair["verdict"] in ("higher", "lower"):
        verb = up if pair["verdict"] == "higher" else down
        return (
            f"{change} {verb} {what} by {size} on average over {seeds} "
            f"({bounds}).{censored}"
        )
    if pair["verdict"] == NO_DIFFERENCE:
        return (
            f"{change} made no detectable difference to {what}: the mean "
            f"change over {seeds} was {signed(pair['mean_difference'], metric)} and "
            f"its {bounds} contains 0.{censored}"
        )
    return (
        f"{change} changed {what} by "
        f"{signed(pair['mean_difference'], metric)} in the one seed run: with a "
        "single seed there is no interval, so no conclusion."
    )


def plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def learned_sentence(row: pd.Series, classes: int, epochs: int) -> str:
    """Whether a variant learned the spirals, from its test accuracy."""
    if row["diverged_runs"] == row["seeds"]:
        return (
            f"**{title(row['variant'])}** diverged in every seed: its training loss "
            "stopped being a finite number, so it learned nothing that can be "
            "measured."
        )
    chance = 1 / classes
    accuracy = row["test_accuracy_mean"]
    if accuracy < chance + NEAR_CHANCE:
        verdict = "stayed near chance, so it did not learn the spirals"
    elif accuracy < 0.9:
        verdict = "learned part of the spirals"
    else:
        verdict = "learned the spirals"
    sentence = (
        f"**{title(row['variant'])}** {verdict} (test accuracy "
        f"{estimate_text(row, 'test_accuracy')} against chance {chance:.3f})"
    )
    reached = row[f"{EPOCHS_TO}_reached"]
    if reached == 0:
        sentence += (
            "; it never reached 0.95 validation accuracy in "
            f"{epochs} {plural(epochs, 'epoch')}"
        )
    else:
        sentence += (
            f"; it reached 0.95 validation accuracy in {reached} of {row['seeds']} "
            f"seeds, after {estimate_text(row, EPOCHS_TO, with_reached=False)} epochs"
        )
    if row["diverged_runs"]:
        sentence += (
            f". It diverged in {row['diverged_runs']} of {row['seeds']} seeds (the "
            "training loss stopped being a finite number); those runs stopped early "
            "and their accuracies count as missing"
        )
    return sentence + "."


def gradient_sentence(variant: str, ratio: float, when: str) -> str:
    """How the first hidden layer's gradient compares with the last one's."""
    name = title(variant)
    if not math.isfinite(ratio) or ratio <= 0:
        return f"{name}: no finite gradient ratio {when}."
    orders = abs(math.log10(ratio))
    if ratio < 0.1:
        return (
            f"{name}: {when}, the first hidden layer's gradient was {1 / ratio:,.0f} "
            f"times smaller than the last hidden layer's ({orders:.1f} orders of "
            "magnitude): it vanished on its way back to the input."
        )
    if ratio > 10:
        return (
            f"{name}: {when}, the first hidden layer's gradient was {ratio:,.0f} "
            f"times larger than the last hidden layer's ({orders:.1f} orders of "
            "magnitude): it grew on its way back to the input."
        )
    return (
        f"{name}: {when}, the first and last hidden layers' gradients were within "
        f"one order of magnitude of each other (ratio {ratio:.2g})."
    )


def last_epoch_values(history: pd.DataFrame, variant: str, prefix: str) -> pd.DataFrame:
    """Each seed's last-epoch values of the metrics named prefix<layer>.

    Seeds whose training diverged are left out: their last epoch measured a
    network whose weights were no longer numbers.
    """
    ours = history[history["variant"] == variant]
    losses = ours[(ours["metric"] == "loss") & (ours["split"] == "train")]
    diverged = losses.loc[~losses["value"].map(math.isfinite), "seed"]
    rows = ours[ours["metric"].str.startswith(prefix) & ~ours["seed"].isin(diverged)]
    last = rows.groupby("seed")["epoch"].transform("max")
    return rows[rows["epoch"] == last]


def unit_health_sentence(history: pd.DataFrame, variant: str) -> str | None:
    """The worst layer's saturated or dead fraction at the last epoch."""
    name = title(variant)
    for prefix, what, none in (
        (
            "saturated_fraction_layer_",
            "of its activations saturated",
            "no hidden activation was saturated, so the shrinking gradient comes "
            "from the sigmoid's derivative, at most 0.25, multiplying it at every "
            "layer",
        ),
        (
            "dead_fraction_layer_",
            "of its units dead, silent for every validation point",
            "no hidden unit was dead",
        ),
    ):
        measured = last_epoch_values(history, variant, prefix)
        if measured.empty:
            continue
        every_seed = ", in every seed" if measured["seed"].nunique() > 1 else ""
        if measured["value"].max() == 0:
            return f"{name}: at the last epoch{every_seed}, {none}."
        worst = measured.loc[measured["value"].idxmax()]
        layer = worst["metric"].removeprefix(prefix)
        return (
            f"{name}: at the last epoch, hidden layer {layer} had the most, "
            f"{worst['value']:.0%} {what}, in seed {worst['seed']}; the mean over "
            f"hidden layers and seeds was {measured['value'].mean():.0%}."
        )
    return None


def findings(comparison: Comparison, params: StudyParameters) -> dict[str, list[str]]:
    """The findings, in the order of the assignment's summary, worded by the data."""
    summary = comparison.summary.set_index("variant", drop=False)
    present = set(summary.index)
    classes, epochs = params.data.classes, params.training.epochs

    def learned(variant: str) -> list[str]:
        if variant not in present:
            return []
        return [learned_sentence(summary.loc[variant], classes, epochs)]

    def differences(before: str, after: str, change: str, metrics: list[str]):
        if before not in present or after not in present:
            return []
        diverged = summary.loc[[before, after], "diverged_runs"]
        if (diverged == summary.loc[[before, after], "seeds"]).any():
            return [
                f"{title(before)} and {title(after)} are not compared: one of them "
                "diverged in every seed."
            ]
        sentences = [
            difference_sentence(comparison, before, after, metric, change)
            for metric in metrics
        ]
        if diverged.any():
            sentences.append(
                f"These comparisons leave out the accuracies of {diverged.sum()} "
                f"diverged {plural(diverged.sum(), 'run')}, whose training stopped "
                "when the loss became non-finite."
            )
        return [sentence for sentence in sentences if sentence]

    activation = learned("sigmoid") + learned("relu")
    activation += differences(
        "sigmoid", "relu", "replacing sigmoid by ReLU", ["test_accuracy"]
    )
    activation += [
        gradient_sentence(
            variant, summary.loc[variant, "gradient_ratio_epoch_1_mean"], "at epoch 1"
        )
        for variant in ("sigmoid", "relu")
        if variant in present
    ]

    batch_norm = learned("relu-batchnorm")
    batch_norm += differences(
        "relu",
        "relu-batchnorm",
        "adding BatchNormalization after the first hidden layer",
        [EPOCHS_TO, "test_accuracy"],
    )
    batch_norm += learned("relu-batchnorm-every-layer")
    batch_norm += differences(
        "relu-batchnorm",
        "relu-batchnorm-every-layer",
        "moving BatchNormalization from after the first hidden layer to before "
        "every hidden layer",
        [EPOCHS_TO, "test_accuracy"],
    )

    dropout = learned("relu-batchnorm-dropout")
    dropout += differences(
        "relu-batchnorm",
        "relu-batchnorm-dropout",
        "adding Dropout",
        ["generalization_gap", "test_accuracy"],
    )
    dropout += negative_gap_sentences(summary)

    other = [
        sentence
        for sentence in (
            unit_health_sentence(comparison.history, variant)
            for variant in comparison.variants
        )
        if sentence
    ]
    spread = summary["test_accuracy_std"].dropna().round(3)
    if len(comparison.seeds) == 1:
        other.append(
            "This run has one seed: the figures carry no interval, and another "
            "seed may give other figures; --seeds 2 or more measures how much."
        )
    elif spread.max() > spread.min():
        widest = spread.idxmax()
        other.append(
            f"From seed to seed, test accuracy varied most for {title(widest)} "
            f"(standard deviation {spread[widest]:.3f}) and least for "
            f"{title(spread.idxmin())} ({spread.min():.3f})."
        )
    elif len(spread) > 1:
        other.append(
            "From seed to seed, test accuracy varied alike for every variant "
            f"(standard deviation {spread.max():.3f})."
        )
    elif len(spread) == 1:
        other.append(
            f"From seed to seed, test accuracy of {title(spread.index[0])} varied "
            f"with a standard deviation of {spread.iloc[0]:.3f}."
        )

    return {
        "The activation function and the vanishing gradient": activation,
        "What BatchNormalization brings": batch_norm,
        "Dropout and generalization": dropout,
        "Other observations": other,
    }


def negative_gap_sentences(summary: pd.DataFrame) -> list[str]:
    """Explain a validation accuracy above the training accuracy, where seen.

    A gap counts as negative when its interval lies below 0; with one seed,
    when its value does.
    """
    gap = summary["generalization_gap_ci_high"].where(
        summary["seeds"] > 1, summary["generalization_gap_mean"]
    )
    negative = summary.index[gap < 0].tolist()
    if not negative:
        return []
    names = ", ".join(title(v) for v in negative)
    which = (
        f"for {names}, its validation accuracy beat its training accuracy"
        if len(negative) == 1
        else f"for {len(negative)} of {len(summary)} variants ({names}), their "
        "validation accuracy beat their training accuracy"
    )
    where = "interval wholly below 0" if (summary["seeds"] > 1).all() else "below 0"
    return [
        f"The generalization gap was negative ({where}) {which}. As in Keras, "
        "training accuracy is averaged over the epoch's batches while the weights "
        "still change (with Dropout active), and validation accuracy is measured "
        "after the epoch, in inference mode; so without overfitting, training "
        "accuracy lags."
    ]


def direction_verdict(pair: pd.Series, expected: str) -> tuple[str, str]:
    """A claim that a change moves a metric one way, judged by its paired interval.

    Supported when the interval lies wholly on the `expected` side of zero; not
    supported when it lies on the other side or contains zero (the second item
    says which); not tested when there is no interval (one seed, or no pairs).
    """
    if pair["verdict"] == expected:
        return "supported", ""
    if pair["verdict"] == NO_DIFFERENCE:
        return "not supported", "; the interval contains 0: no detectable difference"
    if pair["verdict"] in ("higher", "lower"):
        return "not supported", "; the difference goes the other way"
    return "not tested", ""


def claims(comparison: Comparison, params: StudyParameters) -> pd.DataFrame:
    """Each claim of the reference study and of the literature, checked."""
    summary = comparison.summary.set_index("variant", drop=False)
    present = set(summary.index)
    chance = 1 / params.data.classes
    rows = []

    def add(claim: str, source: str, verdict: str, evidence: str) -> None:
        rows.append(
            {"Claim": claim, "Source": source, "Verdict": verdict, "Evidence": evidence}
        )

    def missing(*variants: str) -> str | None:
        absent = [v for v in variants if v not in present]
        if absent:
            return "not run: add " + ", ".join(absent) + " to --variants"
        diverged = [
            v
            for v in variants
            if summary.loc[v, "diverged_runs"] == summary.loc[v, "seeds"]
        ]
        if diverged:
            return "diverged in every seed: " + ", ".join(map(title, diverged))
        return None

    def paired_evidence(before: str, after: str, metric: str):
        pair = pair_row(comparison, before, after, metric)
        if pair["pairs"] == 0:
            return pair, "no seed where either network reached it"
        difference = signed(pair["mean_difference"], metric)
        if pair["pairs"] == 1:
            text = f"difference {difference} in the one seed, no interval"
        else:
            text = (
                f"paired difference {difference} "
                f"{interval(pair['ci_low'], pair['ci_high'], metric)} over "
                f"{pair['pairs']} seeds"
            )
        if pair.get("censored", 0):
            text += f" ({pair['censored']} with one network never reaching it)"
        return pair, text

    reference = "reference solution"

    claim = "The sigmoid network does not learn the spirals"
    if reason := missing("sigmoid"):
        add(claim, reference, "not tested", reason)
    else:
        row = summary.loc["sigmoid"]
        upper = row["test_accuracy_ci_high"]
        upper = row["test_accuracy_mean"] if not math.isfinite(upper) else upper
        add(
            claim,
            reference,
            "supported" if upper < chance + NEAR_CHANCE else "not supported",
            f"test accuracy {estimate_text(row, 'test_accuracy')}, chance {chance:.3f}",
        )

    claim = "ReLU fixes it"
    if reason := missing("sigmoid", "relu"):
        add(claim, reference, "not tested", reason)
    else:
        pair, text = paired_evidence("sigmoid", "relu", "test_accuracy")
        relu = summary.loc["relu"]
        verdict, why = direction_verdict(pair, expected="higher")
        if verdict == "supported" and relu["test_accuracy_mean"] < 0.9:
            verdict, why = "not supported", "; ReLU's accuracy stayed below 0.9"
        text += why
        add(
            claim,
            reference,
            verdict,
            f"ReLU test accuracy {estimate_text(relu, 'test_accuracy')}; {text}",
        )

    claim = "BatchNorm converges faster: about 20 epochs against 50"
    if reason := missing("relu", "relu-batchnorm"):
        add(claim, reference, "not tested", reason)
    else:
        pair, text = paired_evidence("relu", "relu-batchnorm", EPOCHS_TO)
        verdict, why = direction_verdict(pair, expected="lower")
        text += why
        add(
            claim,
            reference,
            verdict,
            f"epochs to 0.95 validation accuracy: ReLU "
            f"{estimate_text(summary.loc['relu'], EPOCHS_TO)}, with BatchNorm "
            f"{estimate_text(summary.loc['relu-batchnorm'], EPOCHS_TO)}; {text}",
        )

    claim = "Dropout adds little test accuracy, about 0.3 percentage points"
    if reason := missing("relu-batchnorm", "relu-batchnorm-dropout"):
        add(claim, reference, "not tested", reason)
    else:
        pair, text = paired_evidence(
            "relu-batchnorm", "relu-batchnorm-dropout", "test_accuracy"
        )
        if not math.isfinite(pair["ci_low"]):
            verdict = "not tested"
        elif pair["ci_high"] <= LITTLE:
            verdict = "supported"
            if pair["mean_difference"] <= 0:
                text += "; on these seeds Dropout added no test accuracy at all"
        elif pair["ci_low"] > LITTLE:
            verdict = "not supported"
            text += "; the gain is larger"
        else:
            verdict = "not supported"
            text += "; the interval is too wide to tell whether the gain is little"
        add(
            claim,
            reference,
            verdict,
            f"{text}; little means the gain is at most +{LITTLE:.2f}",
        )

    claim = (
        "BatchNorm after the first hidden layer beats BatchNorm before every "
        "hidden layer (reaches 0.95 validation accuracy sooner)"
    )
    if reason := missing("relu-batchnorm", "relu-batchnorm-every-layer"):
        add(claim, reference, "not tested", reason)
    else:
        pair, text = paired_evidence(
            "relu-batchnorm", "relu-batchnorm-every-layer", EPOCHS_TO
        )
        verdict, why = direction_verdict(pair, expected="higher")
        add(
            claim,
            reference,
            verdict,
            f"before every layer minus after the first: {text}{why}",
        )

    literature = "literature (Bengio et al. 1994; Glorot & Bengio 2010)"
    claim = "With sigmoid, gradients shrink layer by layer toward the input"
    if reason := missing("sigmoid"):
        add(claim, literature, "not tested", reason)
    else:
        norms = first_epoch_norms(comparison.history, "sigmoid")
        hidden = norms.iloc[:-1]
        shrinking = bool((hidden.diff().dropna() > 0).all())
        ratio = summary.loc["sigmoid", "gradient_ratio_epoch_1_mean"]
        add(
            claim,
            literature,
            "supported" if shrinking and ratio < 0.1 else "not supported",
            "mean gradient norm at epoch 1, hidden layer 1 to 5: "
            + ", ".join(f"{value:.2g}" for value in hidden)
            + f"; first/last ratio {ratio:.2g}",
        )

    literature = "literature (Maas et al. 2013; Lu et al. 2020)"
    claim = "ReLU units can die: output zero for every input"
    relu_variants = [v for v in comparison.variants if VARIANTS[v].activation == "relu"]
    if not relu_variants:
        add(claim, literature, "not tested", "no ReLU variant was run")
    else:
        dead = pd.concat(
            [
                last_epoch_values(comparison.history, v, "dead_fraction_layer_")
                for v in relu_variants
            ]
        )
        runs = len(dead[["variant", "seed"]].drop_duplicates())
        if dead.empty:
            add(claim, literature, "not tested", "every ReLU run diverged")
        elif dead["value"].max() > 0:
            worst = dead.loc[dead["value"].idxmax()]
            add(
                claim,
                literature,
                "supported",
                f"up to {worst['value']:.0%} of a hidden layer's units dead at the "
                f"last epoch ({title(worst['variant'])}, seed {worst['seed']}, "
                f"layer {worst['metric'].removeprefix('dead_fraction_layer_')})",
            )
        else:
            add(
                claim,
                literature,
                "not supported",
                f"no unit was dead at the last epoch in any of {runs} ReLU runs",
            )
    return pd.DataFrame(rows)


def first_epoch_norms(history: pd.DataFrame, variant: str) -> pd.Series:
    """Mean over seeds of each layer's gradient norm at epoch 1, input side first."""
    rows = history[
        (history["variant"] == variant)
        & (history["epoch"] == 1)
        & history["metric"].str.startswith("gradient_norm_layer_")
    ]
    means = rows.groupby("metric")["value"].mean()
    means.index = [
        int(name.removeprefix("gradient_norm_layer_")) for name in means.index
    ]
    return means.sort_index()


def reference_table(comparison: Comparison) -> pd.DataFrame:
    """The reference's single-run figures beside this run's means and intervals."""
    summary = comparison.summary.set_index("variant", drop=False)
    rows = []
    for variant, published in REFERENCE_RESULTS.items():
        if variant not in summary.index:
            continue
        row = summary.loc[variant]
        low, high = row["test_accuracy_ci_low"], row["test_accuracy_ci_high"]
        inside = "—"
        if math.isfinite(low):
            inside = "yes" if low <= published["test_accuracy"] <= high else "no"
        converged = published["converged_epoch"]
        rows.append(
            {
                "Variant": title(variant),
                "Reference test acc.": f"{published['test_accuracy']:.4f}",
                "This run's test acc.": estimate_text(row, "test_accuracy"),
                "Reference inside this interval": inside,
                "Reference train acc.": f"{published['train_accuracy']:.4f}",
                "This run's train acc.": estimate_text(row, "train_accuracy"),
                "Reference convergence": (
                    f"about {converged} epochs (read off a curve)"
                    if converged
                    else "never"
                ),
                "This run's epochs to 0.95": estimate_text(row, EPOCHS_TO),
            }
        )
    return pd.DataFrame(rows)


def reference_caveat(params: StudyParameters) -> str:
    """A warning when this run's settings are not the reference's."""
    changed = [
        f"{name.replace('_', ' ')} {value} against {getattr(default, name)}"
        for given, default in (
            (params.data, SpiralParameters()),
            (params.training, TrainingParameters()),
        )
        for name, value in given
        if value != getattr(default, name)
    ]
    if not changed:
        return ""
    return (
        " This run's settings differ from the reference's ("
        + "; ".join(changed)
        + "), so the two sets of figures do not measure the same thing."
    )


def paired_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for pair in comparison.paired.itertuples():
        rows.append(
            {
                "Change": f"{title(pair.before)} → {title(pair.after)}",
                "Metric": METRIC_WORDS[pair.metric],
                "Seeds": pair.pairs,
                "Of which censored": pair.censored,
                "Mean difference": signed(pair.mean_difference, pair.metric),
                "95% CI": interval(pair.ci_low, pair.ci_high, pair.metric),
                "Verdict": pair.verdict,
            }
        )
    return pd.DataFrame(rows)


def parameters_table(params: StudyParameters) -> pd.DataFrame:
    data, training = params.data, params.training
    seeds = params.repeat_seeds
    return pd.DataFrame(
        [
            ("seeds", f"{len(seeds)} ({seeds[0]} to {seeds[-1]})"),
            ("variants", ", ".join(params.variants)),
            ("points per class", data.points_per_class),
            ("classes", data.classes),
            ("angle noise (rad)", data.angle_noise),
            ("radius", f"{data.radius_min} to {data.radius_max}"),
            ("angle per class (rad)", data.angle_per_class),
            ("test fraction (held out)", data.test_fraction),
            ("validation fraction (of the rest)", data.validation_fraction),
            ("epochs", training.epochs),
            ("batch size", training.batch_size),
            ("optimizer", f"SGD, learning rate {training.learning_rate}"),
            ("loss", "categorical cross-entropy"),
        ],
        columns=["Parameter", "Value"],
    ).astype(str)


def seeds_sentence(seeds: int) -> str:
    """How the figures were drawn from the seeds, and how far to trust them."""
    if seeds == 1:
        return (
            "The study ran once, on one seed: its figures carry no confidence "
            "interval, and another seed may give other figures."
        )
    sentence = (
        f"The study ran {seeds} times, each seed with its own data set and initial "
        "weights; every variant of a seed shared its data. Figures are means over "
        "seeds with their 95% confidence interval in brackets (Student t, cut at "
        "the range a metric can take)."
    )
    if seeds < 5:
        sentence += (
            f" With only {seeds} seeds the intervals are wide; 5 or more give "
            "conclusions that hold."
        )
    return sentence


def render_report(
    params: StudyParameters,
    comparison: Comparison,
    evaluations: list[Evaluation],
    figures: dict[str, str],
    run_name: str,
) -> str:
    """The report; `figures` maps each figure's name to its image link."""
    seeds = len(comparison.seeds)
    summary = comparison.summary.set_index("variant", drop=False)

    def image(name: str, alt: str) -> str:
        return f"![{alt}]({figures[name]})"

    lines = [
        "# The vanishing-gradient study",
        "",
        f"Run `{run_name}`. A network of 5 hidden Dense layers of 64 units learns "
        f"{params.data.classes} interleaved spirals. With sigmoid activations its "
        "gradients vanish; ReLU, BatchNormalization and Dropout are the remedies "
        f"tried. {seeds_sentence(seeds)} Train and validation figures are from the "
        "last epoch; test figures are from a test set no model saw during training.",
        "",
        markdown_table(short_summary(comparison)),
        "",
        "## Parameters",
        "",
        markdown_table(parameters_table(params)),
        "",
        "## Findings",
        "",
    ]
    for heading, sentences in findings(comparison, params).items():
        if sentences:
            lines += [f"### {heading}", "", *[f"- {s}" for s in sentences], ""]
    lines += [
        "## Claims checked",
        "",
        "Each claim of the reference solution and of the literature it rests on, "
        "against this run. A difference counts only when its 95% interval "
        "excludes zero.",
        "",
        markdown_table(claims(comparison, params)),
        "",
        "## Beside the reference solution",
        "",
        f"The reference's figures are from one run each ({SOURCE}); it validated "
        "on its test set, and its convergence epochs were read off its curves."
        + reference_caveat(params),
        "",
        markdown_table(reference_table(comparison)),
        "",
        "## The data",
        "",
        image("dataset", "Spiral data set"),
        "",
        "## The vanishing gradient, measured",
        "",
        "Each training step's gradient of the loss with respect to every Dense "
        "layer's kernel is measured; the figures show its L2 norm averaged over "
        "the epoch's steps, then over seeds.",
        "",
        *[
            "- "
            + gradient_sentence(
                variant,
                summary.loc[variant, "gradient_ratio_epoch_1_mean"],
                "at epoch 1",
            )
            for variant in comparison.variants
        ],
        "",
        image("gradients_epoch_1", "Gradient norm by layer at epoch 1"),
        "",
        "Hidden units pass no gradient when saturated (a sigmoid's derivative "
        "below 5% of its maximum) or dead (a ReLU that outputs zero for every "
        "input):",
        "",
        *[
            f"- {sentence}"
            for sentence in (
                unit_health_sentence(comparison.history, variant)
                for variant in comparison.variants
            )
            if sentence
        ],
        "",
        image("unit_health", "Saturated and dead unit fractions by layer"),
        "",
        "### Gradient norms over training",
        "",
    ]
    for variant in comparison.variants:
        lines += [
            "- "
            + gradient_sentence(
                variant,
                summary.loc[variant, "gradient_ratio_last_epoch_mean"],
                "at the last epoch",
            ),
            "",
            image(f"gradients_{variant}", f"Gradient norms of {variant}"),
            "",
        ]
    lines += [
        "## Validation accuracy, all variants",
        "",
        "The dotted line is chance, 1/classes: a curve lying on it has learned "
        "nothing.",
        "",
        image("validation_accuracy", "Validation accuracy of every variant"),
        "",
        "## Training curves",
        "",
    ]
    for variant in comparison.variants:
        lines += [
            f"### {title(variant)}",
            "",
            image(f"curves_{variant}", f"Loss and accuracy of {variant}"),
            "",
        ]
    lines += [
        "## Decision boundaries",
        "",
        image("decision_boundaries", "Decision boundaries"),
        "",
        "## Confusion matrices (test sets)",
        "",
        f"Summed over the test sets of {seeds} {plural(seeds, 'seed')}. Rows are "
        "true classes, columns predicted classes.",
        "",
    ]
    classes = params.data.classes
    for variant in comparison.variants:
        confusions = [
            e.confusion for e in evaluations if e.variant == variant and not e.diverged
        ]
        if not confusions:
            continue
        matrix = pd.DataFrame(
            sum(confusions), columns=[f"pred. {k}" for k in range(classes)]
        )
        matrix.insert(0, "true", range(classes))
        heading = f"**{title(variant)}**"
        if len(confusions) < seeds:
            heading += f" ({len(confusions)} of {seeds} seeds; the others diverged)"
        lines += [heading, "", markdown_table(matrix), ""]
    lines += [
        "## All results",
        "",
        "Means over seeds, 95% intervals in brackets; `summary.csv` has the "
        "standard deviations too, and `runs.csv` every seed's figures.",
        "",
        markdown_table(detailed_summary(comparison)),
        "",
        "## Paired comparisons",
        "",
        "Each change against the network it modifies, seed by seed (after minus "
        "before). For epochs to 0.95, a seed where only one of the two networks "
        "reached it counts the other's as one epoch more than the run had "
        f"({params.training.epochs + 1}); such seeds are counted as censored, and "
        "the true difference is at least as large as the one shown. Seeds where "
        "neither reached it are left out.",
        "",
        markdown_table(paired_table(comparison)),
        "",
        "## Reproduce",
        "",
        "From the repository root, with the commit recorded in `run.json` beside "
        "this report (which also lists every parameter, seed and package version):",
        "",
        "```sh",
        command_line(params),
        "```",
        "",
    ]
    return "\n".join(lines)
