"""The vanishing-gradient study, as one Prefect flow.

Run it with `make run`, or `python -m flows.vanishing_gradients --help` to see
the parameters that can be changed from the command line.
"""

from __future__ import annotations

import os
import signal
import sys

if __name__ == "__main__":
    # Importing TensorFlow takes seconds: Ctrl-C meanwhile ends without a traceback.
    # Its import points file descriptor 2 at /dev/null (tasks/__init__.py), so the
    # message goes to a copy of the terminal's.
    terminal = os.dup(2)

    def interrupted_before_the_run(signum: int, frame: object) -> None:
        os.write(terminal, b"\nInterrupted before the run started: nothing was run.\n")
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, interrupted_before_the_run)

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from prefect import flow
from prefect.exceptions import ParameterTypeError
from prefect.logging import get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import AfterValidator, ValidationError
from pydantic_settings import CliApp, SettingsError

from flows.interruptions import handle_interruptions, stop_on_terminal_signals
from tasks.compare import compare_variants
from tasks.data import generate_data
from tasks.drift import check_drift
from tasks.evaluate import evaluate_variant
from tasks.parameters import StudyParameters
from tasks.publish import publish_report
from tasks.report import short_summary
from tasks.train import train_variant
from tasks.variants import VARIANTS


def usable_output_dir(output_dir: Path) -> Path:
    """Refuse, before any work, a folder the run could not write its results to."""
    runs, latest = output_dir / "runs", output_dir / "latest"
    for path in (output_dir, runs):
        if path.is_symlink() and not path.exists():
            raise ValueError(
                f"{path} is a link to {os.readlink(path)}, which is missing"
            )
        if path.exists() and not path.is_dir():
            raise ValueError(f"{path} exists and is not a folder")
    if latest.exists() and not latest.is_symlink():
        raise ValueError(
            f"{latest} is not the link this project keeps there; move it away "
            "so that it is not replaced"
        )
    # A run is written in runs/ and `latest` is repointed in the folder above;
    # a folder still to be made is made in its nearest existing parent.
    existing = next(p for p in (output_dir, *output_dir.parents) if p.is_dir())
    for target in {existing, runs if runs.is_dir() else existing}:
        try:
            # Writing is tried, not inferred from permissions, which root ignores.
            with tempfile.TemporaryFile(dir=target):
                pass
        except OSError as error:
            raise ValueError(f"cannot write to {target}: {error.strerror}") from None
    return output_dir


OutputDir = Annotated[Path, AfterValidator(usable_output_dir)]
DEFAULT_OUTPUT_DIR = Path("artifacts")


# Each task runs its TensorFlow operations inline, on one core: more threads
# than cores would not train faster, only hold more models in memory at once.
@flow(
    name="vanishing-gradients",
    task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 1),
)
def vanishing_gradients(
    params: StudyParameters = StudyParameters(),
    output_dir: OutputDir = DEFAULT_OUTPUT_DIR,
) -> Path:
    """Train sigmoid and ReLU networks on spirals and compare how they learn.

    The study is repeated over `params.seeds` seeds. Each seed draws its own
    spiral data set and split, shared by every variant of that seed, so that
    variants can be compared seed by seed.
    """
    logger = get_run_logger()
    started = datetime.now(UTC)
    handle_interruptions()
    logger.info(
        "Training %d variants × %d seeds = %d models",
        len(params.variants),
        params.seeds,
        len(params.variants) * params.seeds,
    )

    # Data: one spiral data set per seed; its test part is held out until
    # evaluation.
    splits = {
        seed: generate_data(params.data, seed=seed) for seed in params.repeat_seeds
    }

    # Training: every (variant, seed) at once, each on its seed's split.
    training_runs = [
        train_variant.submit(
            splits[seed].train,
            splits[seed].validation,
            VARIANTS[name],
            params.training,
            n_classes=params.data.classes,
            seed=seed,
        )
        for seed in params.repeat_seeds
        for name in params.variants
    ]
    trained = [run.result() for run in training_runs]

    # Evaluation: each model once on its seed's held-out test set.
    evaluation_runs = [
        evaluate_variant.submit(
            model,
            splits[model.seed].test,
            n_classes=params.data.classes,
            with_decision_grid=model.seed == params.seed,
        )
        for model in trained
    ]
    evaluations = [run.result() for run in evaluation_runs]

    # Comparison and publication.
    comparison = compare_variants(trained, evaluations, params.training.epochs)
    run_folder = publish_report(
        params, splits, trained, evaluations, comparison, output_dir, started
    )

    # Drift: the previous run of the same parameters, against this one.
    check_drift(params, comparison, output_dir, run_folder)

    logger.info(
        "Summary %s:\n%s",
        "of one seed, no intervals"
        if params.seeds == 1
        else f"over {params.seeds} seeds, 95% intervals in brackets",
        short_summary(comparison).to_string(index=False),
    )
    logger.info("Report: %s", (run_folder / "report.md").resolve())
    return run_folder


def describe(error: ValidationError) -> str:
    """One line per problem, named as the command line flag that caused it."""
    lines = []
    for problem in error.errors():
        fields = [str(part) for part in problem["loc"] if not isinstance(part, int)]
        flag = "--" + ".".join(fields).replace("_", "-") if fields else "parameters"
        message = problem["msg"].removeprefix("Value error, ")
        given = problem.get("input")
        if isinstance(given, str | int | float) and not isinstance(given, bool):
            message += f" (got {given!r})"
        line = f"  {flag}: {message}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Parse and validate the parameters, then run the study once."""
    try:
        params = CliApp.run(StudyParameters, cli_args=argv)
        usable_output_dir(DEFAULT_OUTPUT_DIR)
    except ValidationError as error:
        sys.exit(f"Invalid parameters, nothing was run:\n{describe(error)}")
    except SettingsError as error:
        cause = f" ({error.__cause__})" if error.__cause__ else ""
        sys.exit(f"Invalid parameters, nothing was run:\n  {error}{cause}")
    except ValueError as error:
        sys.exit(f"Nothing was run: {error}")
    stop_on_terminal_signals()
    try:
        vanishing_gradients(params=params)
    except ParameterTypeError as error:
        sys.exit(f"Invalid parameters, nothing was run:\n{error}")


if __name__ == "__main__":
    main(sys.argv[1:])
