"""The README is the front door: it must document every setting the services read."""

from pathlib import Path

import pytest

from shared.config import documented_variables

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [name for name, _, _ in documented_variables()])
def test_every_setting_is_in_the_configuration_table(name):
    assert f"| `{name}` |" in README, f"{name} is read by shared.config but missing from README.md"


@pytest.mark.parametrize("command", ["make run", "make test", "latchkey migrate", "latchkey client create",
                                     "latchkey user create", "latchkey keys rotate", "latchkey serve"])
def test_readme_shows_the_commands(command):
    assert command in README
