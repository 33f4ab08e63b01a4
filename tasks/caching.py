"""Cache keys that cover everything a stage's result depends on, stably."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from prefect.cache_policies import TASK_SOURCE, CachePolicy
from prefect.utilities.hashing import hash_objects

NUMERIC_PACKAGES = ("tensorflow", "keras", "numpy", "scikit-learn", "scipy", "pandas")


@dataclass
class StableInputs(CachePolicy):
    """Key on every input of the task, each hashed on its own.

    Prefect's INPUTS hashes all inputs together and falls back to pickling the
    lot when one of them (an array) is not JSON. A pickled pydantic model holds
    a set of field names whose order changes from process to process, and a
    pickled list depends on which of its items share objects (fresh results do,
    results loaded from the cache do not). Hashing input by input, and list item
    by list item, lets the models go through JSON and keeps the key stable.
    """

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        hashes = {name: stable_hash(value) for name, value in sorted(inputs.items())}
        return hash_objects(hashes, raise_on_failure=True)


def stable_hash(value: Any) -> str:
    if isinstance(value, list | tuple):
        return hash_objects([stable_hash(item) for item in value])
    return hash_objects(value, raise_on_failure=True)


@dataclass
class ModuleSource(CachePolicy):
    """Key on the full source of the modules a task's code calls into.

    Prefect's TASK_SOURCE sees only the task function's own lines; a change to a
    helper it calls (the epoch loop, a variant's layer stack) must also retrain.
    """

    modules: tuple[str, ...] = ()

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        sources = [
            inspect.getsource(importlib.import_module(name)) for name in self.modules
        ]
        return hash_objects(sources, raise_on_failure=True)


@dataclass
class PackageVersions(CachePolicy):
    """Key on the versions of the libraries that compute the study's numbers.

    A scheduled rerun is there to see whether the results still hold when the
    libraries change; after an upgrade it must train again, not reuse results.
    """

    packages: tuple[str, ...] = NUMERIC_PACKAGES

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        versions = {name: metadata.version(name) for name in self.packages}
        return hash_objects(versions, raise_on_failure=True)


def stage_cache(*modules: str) -> CachePolicy:
    """Inputs, task source, helper modules' source and numerical library versions."""
    return (
        StableInputs() + TASK_SOURCE + ModuleSource(modules=modules) + PackageVersions()
    )
