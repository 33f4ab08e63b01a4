"""Stages of the vanishing-gradient study, one module per stage."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with the C++ start-up notices silenced.

    TensorFlow's native libraries write to file descriptor 2 before its logging
    settings apply, so the descriptor itself is pointed at /dev/null meanwhile.
    """
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


def _use_cores_for_parallel_tasks() -> None:
    """One core per operation, every core for operations running side by side.

    The study's operations (batches of 32 through 64-unit layers) are too small
    to gain from being split across cores, and splitting them costs more than it
    saves. The cores serve better running the four training tasks in parallel.
    """
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(os.cpu_count() or 1)


def _skip_graph_rewrites() -> None:
    """Run compiled functions as traced, without Grappler's rewrites.

    Grappler optimizes each new graph when it is first called. On graphs of
    this size its rewrites save less per step than they cost up front: with
    them off, 100 epochs of a variant train about 20 % faster here.
    """
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def _drop_retracing_notices() -> None:
    """Hide TensorFlow's notice that many functions were traced.

    Every trained model compiles its own epoch function, once; TensorFlow counts
    those as "retracing" of one function and warns that tracing is expensive.
    """
    import logging

    logging.getLogger("tensorflow").addFilter(
        lambda record: "triggered tf.function retracing" not in record.getMessage()
    )


_import_tensorflow_quietly()
_use_cores_for_parallel_tasks()
_skip_graph_rewrites()
_drop_retracing_notices()
