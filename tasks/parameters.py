"""Typed, validated parameters of the study, with the reference study's defaults."""

from __future__ import annotations

import math
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasks.variants import DEFAULT_VARIANTS, VARIANTS

VariantName = Literal[tuple(VARIANTS)]


class SpiralParameters(BaseModel):
    """The spiral data set and how it is split into train, validation and test."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    points_per_class: int = Field(500, ge=10, le=100_000)
    classes: int = Field(3, ge=2, le=20)
    angle_noise: float = Field(
        0.2, ge=0, le=10, description="Std of the angle noise, rad."
    )
    radius_min: float = Field(0.0, ge=0, le=1000)
    radius_max: float = Field(1.0, gt=0, le=1000)
    angle_per_class: float = Field(
        4.0, gt=0, le=100, description="Radians swept per arm."
    )
    test_fraction: float = Field(
        0.2, gt=0, lt=1, description="Held out for the final evaluation only."
    )
    validation_fraction: float = Field(
        0.2, gt=0, lt=1, description="Share of the training part used to validate."
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.radius_max <= self.radius_min:
            raise ValueError(
                f"radius-max ({self.radius_max}) must be above "
                f"radius-min ({self.radius_min})"
            )
        for split, size in self.split_sizes().items():
            if size < self.classes:
                points = "point" if size == 1 else "points"
                raise ValueError(
                    f"the {split} split would hold {size} {points}, fewer than one "
                    f"per class ({self.classes}): raise points-per-class or change "
                    f"test-fraction ({self.test_fraction}) or validation-fraction "
                    f"({self.validation_fraction})"
                )
        return self

    def split_sizes(self) -> dict[str, int]:
        """Sizes of the three splits, rounded as scikit-learn rounds them."""
        total = self.points_per_class * self.classes
        test = math.ceil(self.test_fraction * total)
        validation = math.ceil(self.validation_fraction * (total - test))
        return {
            "training": total - test - validation,
            "validation": validation,
            "test": test,
        }


class TrainingParameters(BaseModel):
    """How every variant is trained: plain SGD on categorical cross-entropy."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    epochs: int = Field(100, ge=1, le=10_000)
    batch_size: int = Field(32, ge=1, le=65_536)
    learning_rate: float = Field(0.01, gt=0, le=10)


class StudyParameters(BaseModel):
    """Everything one run of the study depends on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: SpiralParameters = SpiralParameters()
    training: TrainingParameters = TrainingParameters()
    variants: list[VariantName] = Field(
        default=DEFAULT_VARIANTS,
        min_length=1,
        description=(
            "Which variants of the network to train, comma-separated (e.g. "
            "--variants sigmoid,relu); add relu-batchnorm-every-layer to test "
            "BatchNorm before every layer."
        ),
    )
    seeds: int = Field(
        5,
        ge=1,
        le=100,
        description="Repeats of the study, each with its own data and weights.",
    )
    seed: int = Field(
        0, ge=0, lt=2**31 - 100, description="First seed; repeat i uses seed + i."
    )

    @property
    def repeat_seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))

    @field_validator("variants")
    @classmethod
    def _check_variants_unique(cls, variants: list[str]) -> list[str]:
        if len(set(variants)) != len(variants):
            raise ValueError(f"variants are listed more than once: {variants}")
        return variants


def command_line(params: StudyParameters) -> str:
    """The `make run` command that reproduces `params`, naming non-defaults only."""
    defaults = StudyParameters().model_dump(mode="json")
    chosen = params.model_dump(mode="json")
    arguments = []

    for group in ("data", "training"):
        for name, value in chosen[group].items():
            if value != defaults[group][name]:
                arguments.append(f"--{group}.{name.replace('_', '-')} {value}")
    if chosen["variants"] != defaults["variants"]:
        arguments.append("--variants " + ",".join(chosen["variants"]))
    for name in ("seeds", "seed"):
        if chosen[name] != defaults[name]:
            arguments.append(f"--{name} {chosen[name]}")

    return "make run" + (f' ARGS="{" ".join(arguments)}"' if arguments else "")
