"""Training speed: Keras `fit` as the reference used it, against the project's task.

Trains each of the four default variants for 100 epochs on the default spiral
data with plain `model.fit` validating every epoch, and right after with the
project's training task; then the four tasks together in Prefect's default
(thread pool) task runner. Each figure is the best of REPEATS rounds, since the
machine's speed varies from run to run. Prints the figures and, last,
`speedup_vs_fit=<ratio>`. Run with `make bench`.
"""

from __future__ import annotations

import time

import keras
import tensorflow as tf
from prefect import flow
from prefect.cache_policies import NO_CACHE

from tasks.data import make_spirals, split_spirals
from tasks.parameters import StudyParameters
from tasks.train import compile_model, train_variant, variant_seed
from tasks.variants import DEFAULT_VARIANTS, VARIANTS, build_model

PARAMS = StudyParameters()
SPLITS = split_spirals(make_spirals(PARAMS.data, PARAMS.seed), PARAMS.data, PARAMS.seed)
CLASSES = PARAMS.data.classes
REPEATS = 5
uncached_training = train_variant.with_options(
    cache_policy=NO_CACHE, persist_result=False
)


def fit_like_the_reference(name: str) -> float:
    """Seconds for `model.fit` with validation each epoch, as in the notebook.

    The project turns TensorFlow's graph rewrites off (see `tasks/__init__.py`);
    `fit` gets them back, as the reference ran with TensorFlow's defaults.
    """
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
    model = build_model(VARIANTS[name], 2, CLASSES, variant_seed(PARAMS.seed, name))
    compile_model(model, PARAMS.training)
    started = time.perf_counter()
    model.fit(
        SPLITS.train.x,
        keras.ops.one_hot(SPLITS.train.y, CLASSES),
        epochs=PARAMS.training.epochs,
        batch_size=PARAMS.training.batch_size,
        validation_data=(
            SPLITS.validation.x,
            keras.ops.one_hot(SPLITS.validation.y, CLASSES),
        ),
        verbose=0,
    )
    seconds = time.perf_counter() - started
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    return seconds


def submit(name: str):
    return uncached_training.submit(
        SPLITS.train,
        SPLITS.validation,
        VARIANTS[name],
        PARAMS.training,
        n_classes=CLASSES,
        seed=PARAMS.seed,
    )


@flow(name="benchmark-training")
def benchmark() -> tuple[dict[str, float], dict[str, float]]:
    """Best-of-REPEATS seconds per variant for `fit` and for the task, and together.

    Each variant's `fit` run is followed at once by its task run, so that both
    ways of training meet the same machine: on a shared machine the speed
    drifts over the minutes the `fit` runs take.
    """
    fit_seconds = {name: float("inf") for name in DEFAULT_VARIANTS}
    task_seconds = {name: float("inf") for name in [*DEFAULT_VARIANTS, "together"]}

    for _ in range(REPEATS):
        for name in DEFAULT_VARIANTS:
            fit_seconds[name] = min(fit_seconds[name], fit_like_the_reference(name))

            started = time.perf_counter()
            submit(name).result()
            seconds = time.perf_counter() - started
            task_seconds[name] = min(task_seconds[name], seconds)

        started = time.perf_counter()
        for run in [submit(name) for name in DEFAULT_VARIANTS]:
            run.result()
        seconds = time.perf_counter() - started
        task_seconds["together"] = min(task_seconds["together"], seconds)

    return fit_seconds, task_seconds


def main() -> None:
    fit_seconds, task_seconds = benchmark()

    print(f"best of {REPEATS} runs each")
    print(f"{'variant':<24} {'fit (s)':>8} {'task (s)':>9} {'ratio':>6}")
    for name in DEFAULT_VARIANTS:
        ratio = fit_seconds[name] / task_seconds[name]
        print(
            f"{name:<24} {fit_seconds[name]:8.2f} {task_seconds[name]:9.2f} "
            f"{ratio:6.1f}"
        )
    fit_total = sum(fit_seconds.values())
    alone_total = sum(task_seconds[name] for name in DEFAULT_VARIANTS)
    print(
        f"{'all four, one by one':<24} {fit_total:8.2f} {alone_total:9.2f} "
        f"{fit_total / alone_total:6.1f}"
    )
    together = task_seconds["together"]
    print(
        f"four tasks together in the thread pool: {together:.2f} s wall, "
        f"against {alone_total:.2f} s one by one "
        f"({alone_total / together:.2f}x)"
    )
    print(f"speedup_vs_fit={fit_total / alone_total:.1f}")


if __name__ == "__main__":
    main()
