"""Stage 5: write the run's folder and publish its Prefect artifacts."""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path

import markdown
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from tasks import plots
from tasks.compare import Comparison
from tasks.data import SpiralSplits
from tasks.evaluate import Evaluation
from tasks.parameters import StudyParameters
from tasks.report import render_report, short_summary
from tasks.train import TrainedModel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUMMARY_KEY = "vanishing-gradients-summary"
REPORT_KEY = "vanishing-gradients-report"
PACKAGES = [
    "tensorflow",
    "keras",
    "prefect",
    "numpy",
    "pandas",
    "matplotlib",
    "scikit-learn",
    "pydantic",
]


# Run folders being written, under a hidden name until they are complete.
INCOMPLETE: set[Path] = set()
# Run folders this process completed and pointed `latest` at.
PUBLISHED: list[Path] = []


def staging_folder(output_dir: Path, run_name: str) -> Path:
    """A hidden folder to write a run into; it becomes a run folder when complete.

    Its name holds the writing process's id, so that the folders of runs
    killed outright (SIGKILL, a power cut) can be told apart and removed.
    """
    runs = output_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    discard_abandoned_runs(runs)
    # Unlike tempfile.mkdtemp, mkdir gives the folder the user's usual permissions.
    folder = runs / f".incomplete-{run_name}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    INCOMPLETE.add(folder)
    return folder


def discard_abandoned_runs(runs: Path) -> None:
    """Remove hidden run folders whose writing process no longer exists."""
    for folder in runs.glob(".incomplete-*"):
        writer = folder.name.split("-")[-2]
        if writer.isdigit() and not process_exists(int(writer)):
            shutil.rmtree(folder, ignore_errors=True)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def complete_run_folder(staging: Path, run_name: str) -> Path:
    """Give a finished run its folder name; never reuse or overwrite a folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        folder = staging.parent / f"{stamp}-{run_name}{suffix}"
        if folder.exists() or folder.is_symlink():
            continue
        try:
            # A rename onto a folder another run just made fails, as that
            # folder is not empty: the next name is tried.
            staging.rename(folder)
        except OSError:
            continue
        INCOMPLETE.discard(staging)
        return folder
    raise RuntimeError(f"Could not name a new run folder under {staging.parent}")


def discard_incomplete_runs() -> None:
    """Remove the folders of runs that were interrupted while being written."""
    for folder in list(INCOMPLETE):
        shutil.rmtree(folder, ignore_errors=True)
        INCOMPLETE.discard(folder)


def point_latest_at(output_dir: Path, run_folder: Path) -> None:
    """Repoint `latest` at the new run folder in one atomic rename."""
    latest = output_dir / "latest"
    temporary = output_dir / f".latest-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run_folder.relative_to(output_dir))
    os.replace(temporary, latest)


def png_bytes(figure: Figure) -> bytes:
    """The figure as a PNG of 256 colours: a third of the size, the same to the eye.

    Every plot goes into the markdown artifact as a data URI, and the Prefect
    server drops events larger than 1.5 MB.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(colors=256)
    small = io.BytesIO()
    palette.save(small, format="PNG", optimize=True)
    return small.getvalue()


def git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts: missing values become None, not NaN."""
    return json.loads(frame.to_json(orient="records"))


def write_run_folder(
    run_folder: Path,
    run_name: str,
    params: StudyParameters,
    trained: list[TrainedModel],
    evaluations: list[Evaluation],
    comparison: Comparison,
    images: dict[str, bytes],
    started: datetime,
) -> str:
    """Write the run's files; return the report with its plots inlined."""
    history = comparison.history
    for name, image in images.items():
        (run_folder / f"{name}.png").write_bytes(image)

    comparison.summary.to_csv(run_folder / "summary.csv", index=False)
    comparison.runs.to_csv(run_folder / "runs.csv", index=False)
    comparison.paired.to_csv(run_folder / "paired.csv", index=False)
    history.to_csv(run_folder / "history.csv", index=False)
    models = run_folder / "models"
    models.mkdir()
    for model in trained:
        name = f"{model.variant}-seed-{model.seed}.keras"
        (models / name).write_bytes(model.model_bytes)

    report = render_report(
        params,
        comparison,
        evaluations,
        {name: f"{name}.png" for name in images},
        run_name,
    )
    (run_folder / "report.md").write_text(report)
    inline = {
        name: "data:image/png;base64," + base64.b64encode(image).decode()
        for name, image in images.items()
    }
    inline_report = render_report(params, comparison, evaluations, inline, run_name)
    (run_folder / "report.html").write_text(html_page(inline_report, run_name))

    (run_folder / "run.json").write_text(
        json.dumps(
            {
                "flow_run": {"name": run_name, "id": flow_run.get_id()},
                "parameters": params.model_dump(mode="json"),
                "seeds": {
                    "repeats": params.repeat_seeds,
                    "weights": {
                        f"{model.variant}-seed-{model.seed}": model.weights_seed
                        for model in trained
                    },
                },
                "packages": package_versions(),
                "git_commit": git_commit(),
                "started": started.isoformat(),
                "finished": datetime.now(UTC).isoformat(),
            },
            indent=2,
        )
    )
    return inline_report


@task(name="publish-report", cache_policy=NO_CACHE, persist_result=False)
def publish_report(
    params: StudyParameters,
    splits: dict[int, SpiralSplits],
    trained: list[TrainedModel],
    evaluations: list[Evaluation],
    comparison: Comparison,
    output_dir: Path,
    started: datetime,
) -> Path:
    """Write the run folder (tables, plots, models, reports, run.json) and artifacts."""
    logger = get_run_logger()
    run_name = flow_run.get_name() or "local"
    history = comparison.history
    first_seed = params.seed
    classes = params.data.classes

    # Each figure is drawn, turned into a PNG and closed before the next: a
    # dozen open figures at once hold tens of megabytes of canvases.
    drawings = {
        "dataset": partial(plots.plot_dataset, splits[first_seed], first_seed),
        "validation_accuracy": partial(
            plots.plot_validation_accuracy, history, classes
        ),
        **{
            f"curves_{variant}": partial(
                plots.plot_training_curves, history, variant, classes
            )
            for variant in comparison.variants
        },
        "decision_boundaries": partial(
            plots.plot_decision_boundaries,
            [e for e in evaluations if e.seed == first_seed],
            splits[first_seed],
        ),
        "gradients_epoch_1": partial(plots.plot_first_epoch_gradients, history),
        **{
            f"gradients_{variant}": partial(plots.plot_gradient_norms, history, variant)
            for variant in comparison.variants
        },
        "unit_health": partial(plots.plot_unit_health, history),
    }
    images = {name: png_bytes(draw()) for name, draw in drawings.items()}
    # The run is written under a hidden name, and named only when complete.
    staging = staging_folder(Path(output_dir), run_name)
    try:
        inline_report = write_run_folder(
            staging, run_name, params, trained, evaluations, comparison, images, started
        )
        run_folder = complete_run_folder(staging, run_name)
    except BaseException:
        discard_incomplete_runs()
        raise
    point_latest_at(Path(output_dir), run_folder)
    PUBLISHED.append(run_folder)

    table = short_summary(comparison)
    table.insert(0, "variant", comparison.variants)
    create_table_artifact(
        table=json_records(table),
        key=SUMMARY_KEY,
        description=(
            "One row per variant: means over seeds with 95% confidence intervals."
            if params.seeds > 1
            else "One row per variant, from a single seed: no intervals."
        ),
    )
    create_markdown_artifact(
        markdown=inline_report,
        key=REPORT_KEY,
        description="The study's report with its plots.",
    )
    logger.info("Report written to %s", (run_folder / "report.md").resolve())
    return run_folder


def html_page(markdown_text: str, run_name: str) -> str:
    """A self-contained HTML page of the report: styles inline, plots embedded."""
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])
    return HTML_PAGE.format(title=f"Vanishing-gradient study, {run_name}", body=body)


HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.5; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
code, pre {{ background: #f6f6f6; }}
pre {{ padding: 0.6rem; overflow-x: auto; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
