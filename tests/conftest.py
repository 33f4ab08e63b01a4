"""Shared fixtures: one temporary Prefect server and result store per session."""

from __future__ import annotations

import pytest
from prefect.settings import temporary_settings
from prefect.testing.utilities import prefect_test_harness

import tasks  # noqa: F401  (silences TensorFlow before any test imports it)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real temporary Prefect server, with results kept away from the project's."""
    results = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(updates={"results.local_storage_path": str(results)}):
        with prefect_test_harness(server_startup_timeout=120):
            yield results
