import pandas as pd

from tasks.parameters import StudyParameters
from tasks.report import findings, markdown_table

PARAMS = StudyParameters()


def summary(**overrides) -> pd.DataFrame:
    """A hand-made summary: sigmoid at chance, the ReLU variants near 0.99."""
    rows = {
        "sigmoid": {"test_accuracy": 0.33, "epochs_to_0.95": pd.NA},
        "relu": {"test_accuracy": 0.98, "epochs_to_0.95": 60},
        "relu-batchnorm": {"test_accuracy": 0.98, "epochs_to_0.95": 15},
        "relu-batchnorm-dropout": {"test_accuracy": 0.99, "epochs_to_0.95": 12},
    }
    for variant, values in overrides.items():
        rows[variant.replace("_", "-")].update(values)
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")
    frame["diverged_at_epoch"] = pd.array([pd.NA] * 4, dtype="Int64")
    for column in ["epochs_to_0.95", "diverged_at_epoch"]:
        frame[column] = frame[column].astype("Int64")
    return frame.reset_index()


def text(frame: pd.DataFrame) -> str:
    return "\n".join(findings(frame, PARAMS))


def test_findings_follow_the_numbers():
    report = text(summary())

    assert "**Sigmoid** stayed near chance" in report
    assert "**ReLU** learned the spirals" in report
    assert "adding BatchNormalization left test accuracy unchanged" in report
    assert "came sooner (epoch 60 → 15)" in report


def test_a_slower_batchnorm_gives_the_opposite_sentence():
    report = text(summary(relu_batchnorm={"epochs_to_0.95": 80}))

    assert "came later (epoch 60 → 80)" in report
    assert "sooner (epoch 60" not in report


def test_a_diverged_variant_is_named_and_not_compared():
    frame = summary()
    frame.loc[frame["variant"] == "relu", "diverged_at_epoch"] = 2
    report = text(frame)

    assert "**ReLU** diverged" in report and "epoch 2" in report
    assert "replacing sigmoid by ReLU" not in report
    assert "adding BatchNormalization" not in report


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
