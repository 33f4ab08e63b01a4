"""Stage 2: train one variant with whole epochs compiled as TensorFlow graphs."""

from __future__ import annotations

import contextvars
import math
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from prefect import task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.logging import get_run_logger
from tensorflow.python.eager import context

from tasks.caching import stage_cache
from tasks.data import Subset
from tasks.parameters import TrainingParameters
from tasks.variants import VariantSpec, build_model

HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]

PROGRESS_INTERVAL = 0.5
EPOCHS_PER_CALL = 10
SATURATION_LEVEL = 0.05

EpochCallback = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class TrainedModel:
    """A trained variant: its per-epoch history and the model as .keras bytes.

    The history is kept as plain lists, column by column, so that the object
    pickles to the same bytes whether fresh or loaded from the cache, and the
    cache keys of the tasks that take it stay stable.
    """

    variant: str
    seed: int
    weights_seed: int
    history: dict[str, list[float]]
    model_bytes: bytes
    train_seconds: float

    @property
    def history_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.history)

    @property
    def diverged_at(self) -> int | None:
        """The epoch whose training loss was not finite, if training diverged."""
        last_loss = self.history["loss"][-1]
        return None if math.isfinite(last_loss) else self.history["epoch"][-1]

    def load_model(self) -> keras.Model:
        return model_from_bytes(self.model_bytes)


def model_to_bytes(model: keras.Model) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(model_bytes: bytes) -> keras.Model:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(model_bytes)
        return keras.models.load_model(path)


def compile_model(model: keras.Model, training: TrainingParameters) -> None:
    """Attach the study's optimizer, loss and metric, as the reference did."""
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=training.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    model.optimizer.build(model.trainable_variables)


def activation_statistic(activation: str) -> tuple[str, Callable] | None:
    """What to watch in a hidden layer's output on the validation set.

    Saturating units (sigmoid, tanh): the share of (point, unit) pairs whose
    derivative is under SATURATION_LEVEL of its maximum. ReLU units: the share
    of units that output zero for every validation point (dead units).
    """
    if activation == "sigmoid":
        return "saturated_fraction", lambda a: saturated(a * (1 - a), 0.25)
    if activation == "tanh":
        return "saturated_fraction", lambda a: saturated(1 - a * a, 1.0)
    if activation == "relu":
        return "dead_fraction", dead
    return None


# Both take (..., points, units) and reduce the last two axes, so that one call
# covers a stack of every hidden layer's outputs.
def saturated(derivative: tf.Tensor, maximum: float) -> tf.Tensor:
    below = tf.cast(derivative < SATURATION_LEVEL * maximum, tf.float32)
    return tf.reduce_mean(below, axis=[-2, -1])


def dead(outputs: tf.Tensor) -> tf.Tensor:
    silent = tf.reduce_all(outputs <= 0, axis=-2)
    return tf.reduce_mean(tf.cast(silent, tf.float32), axis=-1)


def cross_entropy(labels: tf.Tensor, y_prob: tf.Tensor) -> tf.Tensor:
    """Keras' categorical cross-entropy of a softmax output, in one fused operation.

    Like Keras, it works from the logits beneath the softmax, for accuracy. With
    one-hot targets it equals the sparse form on the class labels; the fused
    operation and its gradient take a few graph nodes where Keras' general
    version (any axis, masks, reductions) takes sixty.
    """
    if y_prob.op.type != "Softmax":
        raise ValueError(f"expected the output of a softmax, got {y_prob.op.type}")
    logits = y_prob.op.inputs[0]
    losses, _ = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(
        features=logits, labels=labels
    )
    return tf.reduce_mean(losses)


def make_epoch_function(
    model: keras.Model,
    train: Subset,
    validation: Subset,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
) -> Callable[[int, int], list[dict[str, float]]]:
    """Compile epochs, training and validation, into one TensorFlow graph.

    Each epoch follows Keras `fit`: a fresh shuffle, batches of `batch_size`
    with the last partial batch kept, layers in training mode while fitting,
    training loss and accuracy averaged over the epoch's samples, and validation
    in inference mode on the whole validation set.

    Besides the loss and accuracy, each epoch reports per Dense layer the mean
    L2 norm of its kernel's gradient over the epoch's steps, taken from the
    gradients each step computes anyway, and per hidden layer the saturation or
    dead-unit fraction seen in the validation pass.

    The returned function trains `count` epochs from `first_epoch` in one call
    (a call costs about 0.3 ms here, a fifteenth of an epoch) and stops after
    an epoch whose training loss is not finite. It returns one dict of metrics
    per epoch trained.
    """
    x_train = tf.constant(train.x, tf.float32)
    labels_train = tf.constant(train.y, tf.int64)
    x_val = tf.constant(validation.x, tf.float32)
    labels_val = tf.constant(validation.y, tf.int64)
    n_samples = len(train)
    steps = math.ceil(n_samples / batch_size)
    learning_rate = tf.constant(float(model.optimizer.learning_rate))
    weights = model.trainable_variables

    dense_layers = [
        layer for layer in model.layers if isinstance(layer, keras.layers.Dense)
    ]
    hidden_layers = dense_layers[:-1]
    kernels = [
        next(i for i, weight in enumerate(weights) if weight is layer.kernel)
        for layer in dense_layers
    ]
    # One inference pass yields the hidden activations and the predictions.
    probe = keras.Model(
        model.inputs, [layer.output for layer in hidden_layers] + [model.outputs[0]]
    )
    # Every hidden layer of a variant has the same activation and width.
    statistic = activation_statistic(hidden_layers[0].activation.__name__)

    names = ["loss", "accuracy", "val_loss", "val_accuracy"]
    names += [f"gradient_norm_layer_{i}" for i in range(1, len(kernels) + 1)]
    if statistic is not None:
        names += [
            f"val_{statistic[0]}_layer_{i}" for i in range(1, len(hidden_layers) + 1)
        ]

    def accuracy_sum(labels: tf.Tensor, y_prob: tf.Tensor) -> tf.Tensor:
        hits = tf.equal(labels, tf.argmax(y_prob, axis=-1))
        return tf.reduce_sum(tf.cast(hits, tf.float32))

    def train_step(step, loss_sum, hits, gradient_norm_sum, order):
        batch = order[step * batch_size : (step + 1) * batch_size]
        x_batch = tf.gather(x_train, batch)
        labels_batch = tf.gather(labels_train, batch)
        with tf.GradientTape() as tape:
            y_prob = model(x_batch, training=True)
            loss = cross_entropy(labels_batch, y_prob)
        gradients = tape.gradient(loss, weights)
        # Plain SGD, w -= learning_rate * gradient, one fused operation per weight
        # (the one TensorFlow's own SGD used).
        for weight, gradient in zip(weights, gradients, strict=True):
            tf.raw_ops.ResourceApplyGradientDescent(
                var=weight.value.handle, alpha=learning_rate, delta=gradient
            )
        # L2Loss is half the squared norm, in one operation.
        half_squared_norms = tf.stack([tf.nn.l2_loss(gradients[i]) for i in kernels])
        return (
            step + 1,
            loss_sum + loss * tf.cast(tf.size(batch), tf.float32),
            hits + accuracy_sum(labels_batch, y_prob),
            gradient_norm_sum + tf.sqrt(2.0 * half_squared_norms),
            order,
        )

    def run_epoch(epoch: tf.Tensor) -> tf.Tensor:
        order = tf.range(n_samples)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([tf.constant(seed, tf.int64), epoch])
            )
        _, loss_sum, hits, gradient_norm_sum, _ = tf.while_loop(
            lambda step, *_: step < steps,
            train_step,
            (0, 0.0, 0.0, tf.zeros(len(kernels)), order),
        )

        *hidden_outputs, y_val_prob = probe(x_val, training=False)
        values = [
            tf.stack(
                [
                    loss_sum / n_samples,
                    hits / n_samples,
                    cross_entropy(labels_val, y_val_prob),
                    accuracy_sum(labels_val, y_val_prob) / len(validation),
                ]
            ),
            gradient_norm_sum / steps,
        ]
        if statistic is not None:
            values.append(statistic[1](tf.stack(hidden_outputs)))
        return tf.concat(values, axis=0)

    # Plain graph code: AutoGraph would only add tracing time.
    @tf.function(autograph=False)
    def run_epochs(first_epoch: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
        def next_epoch(epoch, rows, _):
            values = run_epoch(epoch)
            return (
                epoch + 1,
                tf.concat([rows, [values]], 0),
                tf.math.is_finite(values[0]),
            )

        _, rows, _ = tf.while_loop(
            lambda epoch, rows, finite: finite & (epoch < first_epoch + count),
            next_epoch,
            (first_epoch, tf.zeros([0, len(names)]), True),
            shape_invariants=(
                first_epoch.shape,
                tf.TensorShape([None, len(names)]),
                tf.TensorShape([]),
            ),
        )
        return rows

    def run_epochs_inline(first_epoch: int, count: int) -> list[dict[str, float]]:
        # The default executor hands each small operation to a thread pool;
        # running them inline in the calling thread halves the epoch's time and
        # lets training tasks in other threads use the other cores.
        with context.function_executor_type("SINGLE_THREADED_EXECUTOR"):
            rows = run_epochs(
                tf.constant(first_epoch, tf.int64), tf.constant(count, tf.int64)
            ).numpy()
        return [dict(zip(names, row.tolist(), strict=True)) for row in rows]

    return run_epochs_inline


def fit_variant(
    variant: VariantSpec,
    train: Subset,
    validation: Subset,
    training: TrainingParameters,
    n_classes: int,
    seed: int,
    on_epoch_end: EpochCallback | None = None,
) -> tuple[keras.Model, pd.DataFrame]:
    """Build and train one variant; return the model and its per-epoch history.

    Training stops early if the training loss stops being a finite number: the
    weights are then NaN or infinite and further epochs cannot recover.
    """
    model = build_model(variant, train.x.shape[1], n_classes, seed)
    compile_model(model, training)
    run_epochs = make_epoch_function(
        model, train, validation, training.batch_size, seed
    )
    rows = []

    for first_epoch in range(1, training.epochs + 1, EPOCHS_PER_CALL):
        count = min(EPOCHS_PER_CALL, training.epochs - first_epoch + 1)
        for epoch, metrics in enumerate(run_epochs(first_epoch, count), first_epoch):
            rows.append({"epoch": epoch, **metrics})
            if on_epoch_end is not None:
                on_epoch_end(epoch, metrics)
        if not math.isfinite(rows[-1]["loss"]):
            break

    return model, pd.DataFrame(rows)


class ProgressArtifact:
    """A Prefect progress artifact that training never waits for.

    Each update is an API call of tens of milliseconds, as long as several
    epochs, so calls go out from a background thread, in order, at most every
    PROGRESS_INTERVAL seconds. `finish` sets 100 % and waits for the calls.

    It has no key: it belongs on its task run's page, not among the study's
    results on the Artifacts page, which would list every (variant, seed).
    """

    def __init__(self, description: str) -> None:
        # The calls need the task run's context to attach the artifact to it.
        self._context = contextvars.copy_context()
        self._sender = ThreadPoolExecutor(max_workers=1)
        self._last_sent = time.monotonic()
        self._calls = [
            self._sender.submit(
                self._context.run,
                create_progress_artifact,
                progress=0.0,
                description=description,
            )
        ]

    def _send(self, percent: float) -> None:
        update_progress_artifact(self._calls[0].result(), percent)

    def update(self, percent: float) -> None:
        now = time.monotonic()
        if now - self._last_sent >= PROGRESS_INTERVAL:
            self._calls.append(
                self._sender.submit(self._context.run, self._send, percent)
            )
            self._last_sent = now

    def finish(self) -> None:
        self._calls.append(self._sender.submit(self._context.run, self._send, 100.0))
        self._sender.shutdown(wait=True)
        for call in self._calls:
            call.result()


@task(
    name="train-variant",
    task_run_name="train-{variant.name}-seed-{seed}",
    cache_policy=stage_cache("tasks.train", "tasks.variants"),
    persist_result=True,
)
def train_variant(
    train: Subset,
    validation: Subset,
    variant: VariantSpec,
    training: TrainingParameters,
    n_classes: int,
    seed: int,
) -> TrainedModel:
    """Train one variant on one seed's training split, validating every epoch.

    The variant's initial weights and Dropout masks come from a seed of its own,
    derived from the repeat's `seed` and the variant's name.
    """
    logger = get_run_logger()
    weights_seed = variant_seed(seed, variant.name)
    progress = ProgressArtifact(
        description=f"Epochs of {variant.title} (seed {seed}) trained so far",
    )
    report_every = max(1, training.epochs // 10)

    def on_epoch_end(epoch: int, metrics: dict[str, float]) -> None:
        progress.update(100.0 * epoch / training.epochs)
        if epoch % report_every == 0 or epoch == training.epochs:
            logger.info(
                "%s seed %d epoch %d/%d: loss %.4f, accuracy %.4f, "
                "val_loss %.4f, val_accuracy %.4f",
                variant.name,
                seed,
                epoch,
                training.epochs,
                metrics["loss"],
                metrics["accuracy"],
                metrics["val_loss"],
                metrics["val_accuracy"],
            )

    started = time.perf_counter()
    try:
        model, history = fit_variant(
            variant, train, validation, training, n_classes, weights_seed, on_epoch_end
        )
    finally:
        progress.finish()
    seconds = time.perf_counter() - started
    if len(history) < training.epochs:
        logger.warning(
            "%s seed %d diverged: its training loss was %s at epoch %d; "
            "training stopped",
            variant.name,
            seed,
            history["loss"].iloc[-1],
            len(history),
        )
    logger.info("%s seed %d trained in %.1f s", variant.name, seed, seconds)
    return TrainedModel(
        variant=variant.name,
        seed=seed,
        weights_seed=weights_seed,
        history=history.to_dict(orient="list"),
        model_bytes=model_to_bytes(model),
        train_seconds=seconds,
    )


def variant_seed(seed: int, variant: str) -> int:
    """A seed of the variant's own, derived from the run's seed and its name."""
    sequence = np.random.SeedSequence([seed, *variant.encode()])
    return int(sequence.generate_state(1)[0] % 2**31)
