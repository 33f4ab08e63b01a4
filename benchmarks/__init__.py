"""Benchmarks that print figures; run them with `make bench`."""

import tasks  # noqa: F401  (silences TensorFlow's start-up before it loads)
