"""Run folders: written under a hidden name, left behind by no one."""

import os
import subprocess
import sys

from tasks.publish import INCOMPLETE, discard_incomplete_runs, staging_folder


def test_folders_of_runs_killed_outright_are_removed_by_the_next_run(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    runs = tmp_path / "runs"
    abandoned = runs / f".incomplete-lost-run-{ended.pid}-0123456789ab"
    in_progress = runs / f".incomplete-other-run-{os.getppid()}-ba9876543210"
    for folder in (abandoned, in_progress):
        (folder / "models").mkdir(parents=True)

    staging = staging_folder(tmp_path, "new-run")

    assert not abandoned.exists()
    assert in_progress.exists()
    assert staging.exists() and staging in INCOMPLETE
    discard_incomplete_runs()
    assert not staging.exists()


def test_a_run_folder_gets_the_users_usual_permissions(tmp_path):
    umask = os.umask(0o027)
    try:
        staging = staging_folder(tmp_path, "some-run")
    finally:
        os.umask(umask)

    assert staging.stat().st_mode & 0o777 == 0o750
    discard_incomplete_runs()
