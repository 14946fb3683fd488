"""The settings table: every variable read through it, bad values named, the README's table generated from it."""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from loginhelp import settings
from loginhelp.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_parse_in_every_mode() -> None:
    for mode in settings.MODES:
        assert settings.problems({}, mode) == []


@pytest.mark.parametrize("name, raw, expected", [
    ("CONSOLE_PORT", "8123", 8123),
    ("CONSOLE_COOKIE_SECURE", "Yes", True),
    ("CONSOLE_COOKIE_SECURE", "off", False),
    ("RASA_PORTS", "5011  5012", (5011, 5012)),
    ("LOGINHELP_SPOOL_RETRY_SECONDS", "2.5", 2.5),
    ("DATABASE_URL", "postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("TELEGRAM_BOT_USERNAME", "@coinex_help_bot", "coinex_help_bot"),
    ("TELEGRAM_API_BASE", "http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
])
def test_values_are_typed(name: str, raw: str, expected: object) -> None:
    assert settings.get(name, {name: raw}) == expected


def test_unset_and_blank_give_the_default() -> None:
    assert settings.get("CONSOLE_PORT", {}) == 8000
    assert settings.get("CONSOLE_PORT", {"CONSOLE_PORT": "  "}) == 8000
    assert settings.get("DATABASE_URL", {}) is None
    assert settings.get("DATABASE_URL", {}, mode="prod").startswith("postgresql+psycopg2://")


def test_a_default_can_copy_another_setting() -> None:
    env = {"DATABASE_URL": "postgresql+psycopg2://a@b/c", "PROD_RUN_DIR": "/srv/lh"}
    assert settings.get("ACTION_DATABASE_URL", env, mode="prod") == "postgresql+psycopg2://a@b/c"
    assert settings.get("LOGINHELP_SPOOL_DIR", env, mode="prod") == Path("/srv/lh/spool")
    assert settings.get("LOGINHELP_SPOOL_DIR", env, mode="run") is None


@pytest.mark.parametrize("name, raw, says", [
    ("CONSOLE_PORT", "abc", "CONSOLE_PORT='abc' is not a whole number"),
    ("REDIS_PORT", "70000", "REDIS_PORT='70000' is not a TCP port"),
    ("CONSOLE_SESSION_HOURS", "0", "CONSOLE_SESSION_HOURS='0' is below 1"),
    ("CONSOLE_COOKIE_SECURE", "maybe", "CONSOLE_COOKIE_SECURE='maybe' is not one of"),
    ("LOGINHELP_DB_THREADS", "4.5", "LOGINHELP_DB_THREADS='4.5' is not a whole number"),
    ("LOGINHELP_SPOOL_RETRY_SECONDS", "nan", "is not a finite number"),
    ("DATABASE_URL", "not a url", "DATABASE_URL='not a url' is not a database URL"),
    ("TELEGRAM_API_BASE", "api.telegram.org", "is not an http(s) URL"),
    ("REDIS_KEY_PREFIX", "login-help", "letters and digits only"),
    ("ACTION_APOLOGY", 'say "sorry"', "must not contain quotes"),
    ("ACTION_TIMEOUT", "thirty", "is not a duration"),
    ("RASA_PORTS", "5011,5012", "is not a whole number"),
])
def test_a_bad_value_is_named_with_what_is_expected(name: str, raw: str, says: str) -> None:
    with pytest.raises(settings.SettingsError, match=re.escape(says)):
        settings.get(name, {name: raw}, mode="prod")
    assert any(says in problem for problem in settings.problems({name: raw}, "prod"))


def test_a_secret_is_never_shown_in_the_error() -> None:
    found = settings.problems({"TELEGRAM_TOKEN": "hunter2-not-a-token"})
    assert found == [found[0]] and "TELEGRAM_TOKEN=(hidden)" in found[0] and "hunter2" not in found[0]


def test_a_derived_value_is_reported_once_under_its_source() -> None:
    found = settings.problems({"DATABASE_URL": "nonsense"}, "prod")
    assert len(found) == 1 and found[0].startswith("DATABASE_URL=")


def test_export_quotes_values_for_the_shell() -> None:
    env = {"ACTION_APOLOGY": "Sorry; rm -rf / & more", "PROD_RUN_DIR": "/srv/login help"}
    script = settings.export(env, "prod") + 'printf "%s|%s|%s" "$ACTION_APOLOGY" "$LOGINHELP_SPOOL_DIR" "$PROD_PORT"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={}, check=True).stdout
    assert out == "Sorry; rm -rf / & more|/srv/login help/spool|8005"


def test_export_refuses_a_bad_environment() -> None:
    with pytest.raises(settings.SettingsError, match="PROD_PORT='http'"):
        settings.export({"PROD_PORT": "http"}, "prod")


def test_settings_check_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONSOLE_PORT", "eighty")
    assert cli_main(["settings", "check"]) == 2
    assert "CONSOLE_PORT='eighty' is not a whole number" in capsys.readouterr().err
    monkeypatch.delenv("CONSOLE_PORT")
    assert cli_main(["settings", "check"]) == 0


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- settings table:[^\n]*-->\n(.*?)<!-- end of settings table -->", readme, re.S)
    assert match, "README.md lost its settings table markers"
    assert match.group(1) == settings.markdown_table(), "run `loginhelp settings table` and paste it into README.md"


def _environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read os.environ / os.getenv (passing the whole environment on is not a read)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func
            if target.attr == "getenv" or (target.attr == "get" and ast.unparse(target.value) == "os.environ"):
                lines.append(node.lineno)
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            lines.append(node.lineno)
    return lines


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = {}
    for path in sorted([*ROOT.glob("loginhelp/**/*.py"), *ROOT.glob("actions/**/*.py")]):
        if path.name == "settings.py" and path.parent.name == "loginhelp":
            continue
        found = _environment_reads(path)
        if found:
            readers[str(path.relative_to(ROOT))] = found
    assert readers == {}


def test_every_variable_the_run_scripts_and_endpoints_use_is_in_the_table() -> None:
    # Set by the scripts themselves or belonging to the libraries underneath.
    internal = {"ACTION_ENDPOINT_URL", "ACTION_UPSTREAM_SERVERS", "RASA_UPSTREAM_SERVERS", "ACTION_REPLICAS",
                "RASA_REPLICAS", "TF_CPP_MIN_LOG_LEVEL", "TF_INTRA_OP_PARALLELISM_THREADS",
                "TF_INTER_OP_PARALLELISM_THREADS", "MALLOC_ARENA_MAX", "VAR", "NGINX", "RASA_TF_THREADS"}
    used = set()
    for path in [ROOT / "scripts/run_prod.sh", ROOT / "scripts/run.sh", ROOT / "deploy/endpoints.prod.yml",
                 ROOT / "deploy/nginx.conf.template"]:
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", path.read_text(encoding="utf-8")))
    assert used - internal - set(settings.BY_NAME) == set()


def test_an_empty_default_is_exported_empty_for_rasas_endpoints_file() -> None:
    """deploy/endpoints.prod.yml names ${REDIS_PASSWORD}: Rasa refuses to start when it is not set at all."""
    script = settings.export({}, "prod") + 'printf "[%s|%s]" "${REDIS_PASSWORD-unset}" "${TRACKER_DB_PASSWORD-unset}"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={}, check=True).stdout
    assert out == "[|]"
    assert settings.get("REDIS_PASSWORD", {}) == ""
