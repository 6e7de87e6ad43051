"""The docs match the code: every setting is documented in the README."""

from pathlib import Path

from explorer.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    for name in Settings.model_fields:
        assert f"EXPLORER_{name.upper()}" in README, f"EXPLORER_{name.upper()} is not documented"


def test_readme_quick_start_is_two_commands():
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["make app", "make test"]
