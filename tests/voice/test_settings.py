"""The workshop settings live in the one registry (explorer/settings.py): EXPLORER_* names, validated
types."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.errors import ExplorerError
from explorer.settings import load_settings
from explorer.voice import store as store_mod
from explorer.voice.llm import LLMConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DB_URL", "PUBLIC_URL", "FACILITATOR_PIN", "LLM_URL", "LLM_MODEL", "LLM_KEY", "LLM_TIMEOUT"):
        monkeypatch.delenv(f"EXPLORER_{name}", raising=False)


def test_db_url_from_the_registry(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXPLORER_DB_URL", f"sqlite:///{tmp_path}/new.db")
    assert store_mod.default_url().endswith("new.db")
    monkeypatch.delenv("EXPLORER_DB_URL")
    assert store_mod.default_url().endswith("var/workshop.db")


def test_llm_config_from_the_registry() -> None:
    env = {"EXPLORER_LLM_URL": "http://127.0.0.1:11434/v1/", "EXPLORER_LLM_MODEL": "tiny",
           "EXPLORER_LLM_KEY": "sk-secret-123", "EXPLORER_LLM_TIMEOUT": "7.5"}
    cfg = LLMConfig.from_env(env)
    assert cfg == LLMConfig("http://127.0.0.1:11434/v1", "tiny", "sk-secret-123", 7.5)
    assert "sk-secret-123" not in repr(load_settings(env)), "the key must never be printed"
    assert LLMConfig.from_env({"EXPLORER_LLM_URL": "http://127.0.0.1:1/v1"}) is None, "a URL without a model"


@pytest.mark.parametrize(("env", "name", "problem"), [
    ({"EXPLORER_LLM_TIMEOUT": "twenty"}, "EXPLORER_LLM_TIMEOUT", "valid number"),
    ({"EXPLORER_LLM_TIMEOUT": "0"}, "EXPLORER_LLM_TIMEOUT", "greater than 0"),
    ({"EXPLORER_LLM_URL": "file:///etc/passwd"}, "EXPLORER_LLM_URL", "pattern"),
    ({"EXPLORER_PUBLIC_URL": "javascript:alert(1)"}, "EXPLORER_PUBLIC_URL", "pattern"),
    ({"EXPLORER_DB_URL": "workshop.db"}, "EXPLORER_DB_URL", "pattern"),
    ({"EXPLORER_FACILITATOR_PIN": ""}, "EXPLORER_FACILITATOR_PIN", "at least 1"),
    ({"EXPLORER_LLM_MODLE": "x"}, "EXPLORER_LLM_MODLE", "unknown setting"),
])
def test_bad_workshop_setting_is_refused(env: dict, name: str, problem: str) -> None:
    with pytest.raises(ExplorerError) as info:
        load_settings(env)
    msg = info.value.message
    assert name in msg and problem in msg
    assert "correct or unset" in msg or "remove it" in msg, "the message says how to fix it"


def test_facilitator_pin_from_the_registry(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXPLORER_DB_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("EXPLORER_FACILITATOR_PIN", "4711")
    at = AppTest.from_file(str(ROOT / "app_pages" / "projector.py"), default_timeout=120)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    pin = next(t for t in at.text_input if t.label == "Facilitator PIN")
    assert not any(t.label == "Show hide buttons" for t in at.toggle), "controls hidden until the PIN is typed"
    pin.set_value("4711").run()
    assert any(t.label == "Show hide buttons" for t in at.toggle)
