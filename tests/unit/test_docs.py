"""The README documents every command of the CLI and of the bot, and every CLI command has help."""

from __future__ import annotations

import subprocess

import click
import pytest

from bot.chat import COMMANDS
from bot.chat.base import CommandContext
from bot.cli.main import main
from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def cli_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(cli_commands(cmd, f"{full} "))
    return out


@pytest.mark.parametrize(("name", "command"), cli_commands(main), ids=lambda v: v if isinstance(v, str) else "")
def test_every_cli_command_is_documented_and_has_help(name: str, command: click.Command) -> None:
    assert f"`{name}" in README, f"README does not document `rotation-bot {name}`"
    assert command.help and command.help.strip(), f"`rotation-bot {name}` has no help text"


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_bot_command_is_documented(name: str) -> None:
    assert f"`/{name}" in README, f"README does not document /{name}"


def test_the_two_commands_are_shown() -> None:
    assert "make run" in README and "make test" in README


def test_the_readme_puts_rotation_bot_on_path_before_it_is_typed_bare() -> None:
    """`make setup` leaves the command in .venv/bin: the README's line for PATH works, and precedes the examples."""
    section = README[README.index("## The two commands") : README.index("## Try it offline")]
    (line,) = [ln.split("#", 1)[0].strip() for ln in section.splitlines() if ln.startswith(". ")]
    assert README.index(line) < README.index("$ rotation-bot ")
    if not (REPO / ".venv" / "bin" / "activate").is_file():
        pytest.skip("no .venv in this checkout (make setup)")
    found = subprocess.run(
        ["bash", "-c", f"{line} && command -v rotation-bot"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.strip() == str(REPO / ".venv" / "bin" / "rotation-bot"), found.stderr


async def test_the_disclaimer_is_where_people_first_look() -> None:
    """Not investment advice: in the README's opening, and at the end of /start and /help in chat."""
    from bot.answers import DISCLAIMER
    from bot.chat.commands import cmd_help, cmd_start

    assert README.index("**Not investment advice.**") < README.index("## The two commands")
    ctx = CommandContext(service=None, chat_id=1, admin=False)  # type: ignore[arg-type]
    for reply in (await cmd_start(ctx, []), await cmd_help(ctx, [])):
        assert reply.text.splitlines()[-1] == f"<i>{DISCLAIMER}</i>"
