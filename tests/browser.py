"""Headless Chromium for the tests that open pages (graph, training reports): find it, run it, install it.

Tests call ``chromium(tmp_path, "--dump-dom", url)``; a machine without a browser fails them with one line saying
how to get one (they are never skipped). README's test command runs this file first:

    python tests/browser.py [--dry-run]

which finds Chromium (or Chrome), and where none is installed installs Debian's ``chromium`` with apt-get when
running as root on Debian (as CI does), or else prints one line saying what to install and exits 1, so that the
command stops before the tests. ``--dry-run`` prints what it would run and installs nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Names Chromium and Chrome are installed under (Debian: chromium; Ubuntu's deb: chromium-browser; Google's
# packages: google-chrome*), then the application bundles of macOS, which are not on PATH.
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_APPLICATIONS = ("/Applications/Chromium.app/Contents/MacOS/Chromium",
                    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
DEBIAN_PACKAGE = "chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
MISSING = ("the browser tests need Chromium or Chrome and none was found: run `python tests/browser.py` "
           "(installs Debian's chromium as root) or install it yourself")


def find_browser(path: str | None = None) -> str | None:
    """The first Chromium or Chrome on ``path`` (default: PATH), else a macOS application bundle, else None."""
    for name in NAMES:
        found = shutil.which(name, path=path)
        if found:
            return found
    if sys.platform == "darwin":
        return next((candidate for candidate in MAC_APPLICATIONS if Path(candidate).is_file()), None)
    return None


def chromium(tmp_path: Path, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium with its own profile in ``tmp_path``; a missing browser fails the test in one line."""
    import pytest

    browser = find_browser()
    if browser is None:
        pytest.fail(MISSING, pytrace=False)
    command = [browser, *FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)


def install_plan(*, debian: bool, root: bool, apt_get: str | None) -> list[list[str]] | str:
    """The commands that install Chromium here, or the one-line message for a machine where we do not."""
    if debian and root and apt_get:
        return [[apt_get, "update"], [apt_get, "install", "-y", DEBIAN_PACKAGE]]
    if debian:
        return (f"Chromium is missing for the browser tests: run `sudo apt-get install {DEBIAN_PACKAGE}` "
                "(or this command as root), then again")
    if sys.platform == "darwin":
        return ("Chromium is missing for the browser tests: install it (`brew install --cask chromium`) "
                "or Google Chrome, then run again")
    return ("Chromium is missing for the browser tests: install Chromium or Google Chrome with your system's "
            "package manager so that `chromium` or `google-chrome` is on PATH, then run again")


def ensure_browser(*, dry_run: bool = False, path: str | None = None, debian: bool | None = None,
                   root: bool | None = None) -> int:
    """Find the browser, installing it where we can; returns the exit code (0: a browser is there)."""
    browser = find_browser(path)
    if browser is not None:
        print(f"browser tests: {browser}")
        return 0
    plan = install_plan(debian=Path("/etc/debian_version").is_file() if debian is None else debian,
                        root=(hasattr(os, "geteuid") and os.geteuid() == 0) if root is None else root,
                        apt_get=shutil.which("apt-get", path=path))
    if isinstance(plan, str):
        print(plan, file=sys.stderr)
        return 1
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in plan:
        print(("would run: " if dry_run else "running: ") + " ".join(command), flush=True)
        if not dry_run and subprocess.run(command, env=environment, check=False).returncode != 0:
            print(f"`{' '.join(command)}` failed; install {DEBIAN_PACKAGE} by hand and run again", file=sys.stderr)
            return 1
    if dry_run:
        return 0
    browser = find_browser(path)
    if browser is None:
        print(f"apt-get installed {DEBIAN_PACKAGE} but no browser is on PATH", file=sys.stderr)
        return 1
    print(f"browser tests: {browser}")
    return 0


if __name__ == "__main__":
    sys.exit(ensure_browser(dry_run="--dry-run" in sys.argv[1:]))
