"""Atomic writes and the settings registry."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from explorer.errors import ExplorerError
from explorer.io import atomic_dir, atomic_write_bytes, atomic_write_text
from explorer.settings import Settings, get_settings


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "out.json"
    atomic_write_text(p, "old")
    atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"new"
    assert [f.name for f in tmp_path.iterdir()] == ["out.json"]


def test_atomic_dir_cleans_up_on_error(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "city") as tmp:
        (tmp / "half.csv").write_text("a,b")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_killed_writer_leaves_old_or_new(tmp_path):
    """A process killed in the middle of a large write leaves the previous file intact."""
    target = tmp_path / "data.bin"
    atomic_write_bytes(target, b"old" * 10)
    script = textwrap.dedent(f"""
        import os, signal
        import explorer.io as io
        real = os.replace
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        io.os.replace = die
        io.atomic_write_bytes({str(target)!r}, b"new" * 5_000_000)
    """)
    proc = subprocess.run([sys.executable, "-c", script])
    assert proc.returncode != 0
    assert target.read_bytes() == b"old" * 10


def test_every_setting_is_documented():
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no help"


def test_unknown_and_bad_settings_are_refused(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("EXPLORER_MAX_FILE_MB", "lots")
    with pytest.raises(ExplorerError, match="EXPLORER_MAX_FILE_MB"):
        get_settings()
    monkeypatch.delenv("EXPLORER_MAX_FILE_MB")
    monkeypatch.setenv("EXPLORER_TYPO", "1")
    get_settings.cache_clear()
    with pytest.raises(ExplorerError, match="EXPLORER_TYPO"):
        get_settings()
    monkeypatch.delenv("EXPLORER_TYPO")
    get_settings.cache_clear()
    assert get_settings().default_city == os.environ.get("EXPLORER_DEFAULT_CITY", "los-angeles")
