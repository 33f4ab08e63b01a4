"""The Prefect UI shows the smoke run's report and summary, in a real browser.

Chromium is Debian's (`apt-get install chromium`); Playwright only drives it and
gives it a fresh profile. Requests that would leave the machine are blocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import Artifact

from tasks.publish import REPORT_KEY, SUMMARY_KEY
from tests.e2e.components import VARIANT_NAMES, PrefectServer, SmokeRun

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGE_TIMEOUT_MS = 30_000
# The natural widths of the page's images, once every one has arrived and
# decoded (or failed to), read in the same step: the UI may re-render the report
# between two separate queries.
SETTLED_IMAGE_WIDTHS = """
expected => {
    const images = [...document.images];
    const settled = images.length >= expected && images.every(i => i.complete);
    return settled ? images.map(i => i.naturalWidth) : null;
}
"""


@pytest.fixture(scope="module")
def ui(deployed: PrefectServer) -> str:
    """The address of the UI a browser is sent to by default (V1 or V2)."""
    settings = httpx.get(f"{deployed.url}/ui-settings").json()
    assert settings["available_uis"], "the server serves no UI"
    base = settings[f"{settings['default_ui']}_base_url"]
    return deployed.url + base.rstrip("/")


@pytest.fixture(scope="module")
def artifacts(deployed: PrefectServer, smoke_run: SmokeRun) -> dict[str, Artifact]:
    with deployed.client() as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[smoke_run.flow_run.id])
            )
        )
    return {artifact.key: artifact for artifact in found if artifact.key}


@pytest.fixture(scope="module")
def run_folder(smoke_run: SmokeRun) -> Path:
    """The folder the smoke run wrote; screenshots go next to its report."""
    return (smoke_run.output_dir / "latest").resolve()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, deployed: PrefectServer) -> Iterator[Page]:
    """A fresh browser page that can reach the test server and nothing else."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.route(lambda url: not url.startswith(deployed.url), lambda r: r.abort())
    yield context.new_page()
    context.close()


def test_the_report_page_shows_every_plot(page, ui, artifacts, run_folder):
    report = artifacts[REPORT_KEY]
    embedded = report.data.count("](data:image/png;base64,")
    assert embedded > 0, "the report artifact embeds no image"

    page.goto(f"{ui}/artifacts/artifact/{report.id}")
    widths = page.wait_for_function(SETTLED_IMAGE_WIDTHS, arg=embedded).json_value()
    page.screenshot(path=run_folder / "ui-report.png", full_page=True)

    assert len(widths) >= embedded
    assert all(width > 0 for width in widths), widths


def test_the_summary_page_shows_one_row_per_variant(page, ui, artifacts, run_folder):
    page.goto(f"{ui}/artifacts/artifact/{artifacts[SUMMARY_KEY].id}")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(len(VARIANT_NAMES))
    page.screenshot(path=run_folder / "ui-summary.png", full_page=True)

    variants_by_row = [
        [cell for cell in row.locator("td").all_inner_texts() if cell in VARIANT_NAMES]
        for row in rows.all()
    ]
    assert sorted(variants_by_row) == sorted([name] for name in VARIANT_NAMES)


def test_the_ui_is_told_analytics_are_off(deployed):
    # The UI reads this before it sends any usage event.
    settings = httpx.get(f"{deployed.api_url}/admin/settings").json()

    assert settings["server"]["analytics_enabled"] is False
