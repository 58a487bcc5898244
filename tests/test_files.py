"""funml.files: atomic writes, output folders that never overwrite."""

import os
import stat

import pytest

from funml.errors import FunmlError
from funml.files import atomic_open, new_run_dir, write_json, write_text


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = write_text(tmp_path / "out.txt", "first")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("second")
        raise RuntimeError("interrupted")
    assert target.read_text() == "first"


def test_written_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_new_run_dir_refuses_non_empty_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    with pytest.raises(FunmlError, match="already exists and is not empty"):
        new_run_dir(tmp_path / "run", "x")
    assert new_run_dir(tmp_path / "empty", "x").is_dir()


def test_new_run_dir_never_reuses_a_timestamped_folder(tmp_path):
    first = new_run_dir(None, "train", root=tmp_path)
    second = new_run_dir(None, "train", root=tmp_path)
    assert first != second
    assert first.is_dir() and second.is_dir()
