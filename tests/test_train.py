import numpy as np
import pytest
from prefect.logging import disable_run_logger

from tasks.compare import DIVERGED_MISSING, run_row
from tasks.data import make_spirals, split_spirals
from tasks.evaluate import evaluate_variant
from tasks.parameters import SpiralParameters, TrainingParameters
from tasks.train import (
    HISTORY_COLUMNS,
    TrainedModel,
    fit_variant,
    model_from_bytes,
    model_to_bytes,
)
from tasks.variants import VARIANTS

SMALL = SpiralParameters(points_per_class=100)
SPLITS = split_spirals(make_spirals(SMALL, seed=0), SMALL, seed=0)
SHORT = TrainingParameters(epochs=3)


def fit(name: str, seed: int = 11):
    return fit_variant(
        VARIANTS[name], SPLITS.train, SPLITS.validation, SHORT, 3, seed=seed
    )


def test_history_has_one_row_per_epoch_with_the_keras_metric_names():
    _, history = fit("relu")

    assert list(history.columns[:5]) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history[["accuracy", "val_accuracy"]].stack().between(0, 1).all()
    assert (history[["loss", "val_loss"]] > 0).all().all()


@pytest.mark.parametrize("name", ["relu-batchnorm-dropout", "sigmoid"])
def test_same_seed_gives_the_same_numbers(name):
    model, history = fit(name)
    model_again, history_again = fit(name)

    np.testing.assert_array_equal(history.to_numpy(), history_again.to_numpy())
    for a, b in zip(model.get_weights(), model_again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_other_numbers():
    _, history = fit("relu", seed=1)
    _, other = fit("relu", seed=2)

    assert not np.array_equal(history["loss"], other["loss"])


def test_saved_model_reloads_with_the_same_predictions():
    model, _ = fit("relu-batchnorm-dropout")
    reloaded = model_from_bytes(model_to_bytes(model))

    np.testing.assert_allclose(
        reloaded.predict(SPLITS.validation.x, verbose=0),
        model.predict(SPLITS.validation.x, verbose=0),
        atol=1e-6,
    )


def test_training_sets_no_global_seed():
    state = np.random.get_state()[1].copy()
    fit("relu-batchnorm-dropout")

    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_training_stops_when_the_loss_diverges():
    too_fast = TrainingParameters(epochs=20, learning_rate=10)
    _, history = fit_variant(
        VARIANTS["relu-batchnorm"], SPLITS.train, SPLITS.validation, too_fast, 3, 11
    )

    assert len(history) < 20
    assert not np.isfinite(history["loss"].iloc[-1])
    assert np.isfinite(history["loss"].iloc[:-1]).all()


def test_a_diverged_model_counts_as_missing_not_as_chance():
    too_fast = TrainingParameters(epochs=5, learning_rate=10)
    model, history = fit_variant(
        VARIANTS["relu"], SPLITS.train, SPLITS.validation, too_fast, 3, 11
    )
    trained = TrainedModel(
        variant="relu",
        seed=0,
        weights_seed=11,
        history=history.to_dict(orient="list"),
        model_bytes=model_to_bytes(model),
        train_seconds=1.0,
    )

    with disable_run_logger():
        evaluation = evaluate_variant.fn(
            trained, SPLITS.test, n_classes=3, with_decision_grid=True
        )
    row = run_row(trained, evaluation)

    assert trained.diverged_at == len(history)
    assert evaluation.diverged and evaluation.decision_grid is None
    assert all(np.isnan(row[metric]) for metric in DIVERGED_MISSING)
    assert row["diverged_at_epoch"] == trained.diverged_at
