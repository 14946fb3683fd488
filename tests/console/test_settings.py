"""Console settings: the session key is generated once, kept private, and never needed in the repo."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from loginhelp.console.settings import SECRET_KEY_FILE, ConsoleSettings, persistent_secret_key


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = persistent_secret_key(tmp_path)
    assert len(first) >= 48 and persistent_secret_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / SECRET_KEY_FILE).stat().st_mode)
    assert mode == 0o600


def test_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgres://u@db/rasa")
    monkeypatch.setenv("CONSOLE_COOKIE_SECURE", "1")
    settings = ConsoleSettings.from_env()
    assert settings.secret_key == "from-the-environment"
    assert settings.tracker_url == "postgresql+psycopg2://u@db/rasa"
    assert settings.cookie_secure
    assert not (tmp_path / "var" / SECRET_KEY_FILE).exists()


def test_defaults_point_at_the_files_rasa_and_the_tickets_use(tmp_path: Path) -> None:
    settings = ConsoleSettings.from_env()
    assert settings.tracker_url.endswith("/var/tracker.db")  # the repository's var/, as endpoints.yml says
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'loginhelp.db'}"
    assert (tmp_path / "var" / SECRET_KEY_FILE).exists()
