"""scripts/find_python.sh: PYTHON first, then python3.10, then pyenv, else a clear error."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "find_python.sh"
BASE_TOOLS = ["bash", "ls", "sort", "dirname", "cat", "env"]


def run(env, path_dirs):
    clean = {"HOME": env.get("HOME", "/nonexistent"), "PATH": os.pathsep.join(map(str, path_dirs))}
    clean.update({k: v for k, v in env.items() if k != "HOME"})
    return subprocess.run(["bash", str(SCRIPT)], env=clean, capture_output=True, text=True)


@pytest.fixture
def toolbox(tmp_path):
    """A PATH with only basic tools, so no real python3.10 or pyenv is found by accident."""
    box = tmp_path / "bin"
    box.mkdir()
    for tool in BASE_TOOLS:
        found = shutil.which(tool)
        if found:
            (box / tool).symlink_to(found)
    return box


def fake_python(path: Path, version: str) -> Path:
    """An executable that answers the version check like a Python ``version``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    major, minor = version.split(".")[:2]
    path.write_text(
        "#!/bin/bash\n"
        f'[ "$1" = "-c" ] && exec {sys.executable} -c "import sys; sys.version_info = ({major}, {minor}); exec(\\"$2\\")"\n'
        "exit 1\n"
    )
    path.chmod(0o755)
    return path


def test_python_override_is_honoured(toolbox, tmp_path):
    py = fake_python(tmp_path / "custom" / "python", "3.10.9")
    result = run({"PYTHON": str(py)}, [toolbox])
    assert result.returncode == 0 and result.stdout.strip() == str(py)


def test_wrong_python_override_is_refused_with_a_reason(toolbox, tmp_path):
    py = fake_python(tmp_path / "custom" / "python", "3.11.7")
    result = run({"PYTHON": str(py)}, [toolbox])
    assert result.returncode == 1
    assert "not a working Python 3.10" in result.stderr


def test_python310_on_path_is_used(toolbox, tmp_path):
    fake_python(toolbox / "python3.10", "3.10.13")
    result = run({"PYENV_ROOT": str(tmp_path / "nopyenv")}, [toolbox])
    assert result.returncode == 0 and result.stdout.strip() == str(toolbox / "python3.10")


def test_broken_shim_falls_back_to_pyenv_versions(toolbox, tmp_path):
    shim = toolbox / "python3.10"
    shim.write_text("#!/bin/bash\necho 'pyenv: python3.10: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.10.4" / "bin" / "python", "3.10.4")
    newest = fake_python(root / "versions" / "3.10.13" / "bin" / "python", "3.10.13")
    fake_python(root / "versions" / "3.11.7" / "bin" / "python", "3.11.7")
    result = run({"PYENV_ROOT": str(root)}, [toolbox])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(newest)


def test_nothing_found_says_what_to_install(toolbox, tmp_path):
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.11.7" / "bin" / "python", "3.11.7")
    result = run({"PYENV_ROOT": str(root)}, [toolbox])
    assert result.returncode == 1
    assert "no Python 3.10 found" in result.stderr
    assert "pyenv install 3.10" in result.stderr


def test_real_machine_finds_a_310():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    version = subprocess.run([result.stdout.strip(), "--version"], capture_output=True, text=True)
    assert "3.10" in version.stdout + version.stderr
