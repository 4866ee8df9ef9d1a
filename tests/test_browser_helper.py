"""README's test command sets up the browser itself: tests/browser.py finds Chromium, installs Debian's package as
root, and otherwise stops with one line. Checked with PATHs made for the test (the machine's own Chromium stays)."""

import subprocess
import sys

import pytest

import browser
from conftest import ROOT


def _folder_with(tmp_path, *names):
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\nexit 0\n")
        (folder / name).chmod(0o755)
    return folder


def test_a_browser_on_path_is_used_and_nothing_is_installed(tmp_path, capsys):
    folder = _folder_with(tmp_path, "google-chrome", "apt-get")
    assert browser.ensure_browser(path=str(folder), debian=True, root=True) == 0
    output = capsys.readouterr().out
    assert f"browser tests: {folder / 'google-chrome'}" in output and "apt-get" not in output


def test_debian_as_root_installs_chromium_with_apt_get(tmp_path, capsys):
    folder = _folder_with(tmp_path, "apt-get")  # no browser on this PATH
    assert browser.ensure_browser(dry_run=True, path=str(folder), debian=True, root=True) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"would run: {folder / 'apt-get'} update", f"would run: {folder / 'apt-get'} install -y chromium"]


def test_an_install_that_fails_is_one_line_and_exit_1(tmp_path, capsys):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "apt-get").write_text("#!/bin/sh\nexit 100\n")
    (folder / "apt-get").chmod(0o755)
    assert browser.ensure_browser(path=str(folder), debian=True, root=True) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "failed" in error and "chromium" in error


@pytest.mark.parametrize("debian, root, expected", [(True, False, "sudo apt-get install chromium"),
                                                    (False, True, "install")])
def test_where_it_cannot_install_it_says_what_to_do_in_one_line(tmp_path, capsys, debian, root, expected):
    folder = _folder_with(tmp_path, "apt-get")
    assert browser.ensure_browser(path=str(folder), debian=debian, root=root) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "\n" not in captured.err.strip() and expected in captured.err


def test_the_command_line_dry_run_on_this_machine_without_a_browser_on_path(tmp_path):
    # This machine is Debian and runs as root (like CI): with no browser on PATH the script plans apt-get.
    folder = _folder_with(tmp_path, "apt-get")
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "browser.py"), "--dry-run"], capture_output=True,
                          text=True, env={"PATH": str(folder)}, check=False)
    if not browser.Path("/etc/debian_version").is_file() or browser.os.geteuid() != 0:
        assert done.returncode == 1 and done.stderr.count("\n") == 1
    else:
        assert done.returncode == 0 and "install -y chromium" in done.stdout, done.stderr


def test_a_browser_test_without_a_browser_fails_in_one_line_not_skips(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_folder_with(tmp_path, "apt-get")))
    with pytest.raises(pytest.fail.Exception, match="python tests/browser.py"):
        browser.chromium(tmp_path, "--version")
