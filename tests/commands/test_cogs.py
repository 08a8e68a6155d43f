"""Walk every slash command: valid names and descriptions, same shape as the shared spec."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from discord import app_commands

from bot.app import EXTENSIONS, BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.queries.spec import COMMANDS
from bot.settings import Settings

NAME = re.compile(r"^[-_'\w]{1,32}$")


@pytest.fixture
async def bot(briefs_dir: Path) -> AsyncIterator[BriefBot]:
    client = BriefBot(settings=Settings(briefs_dir=briefs_dir), library=LiveLibrary(briefs_dir))
    for extension in EXTENSIONS:
        await client.load_extension(extension)
    yield client
    await client.close()


def walk(
    commands: list[app_commands.Command | app_commands.Group],  # type: ignore[type-arg]
) -> Iterator[app_commands.Command | app_commands.Group]:  # type: ignore[type-arg]
    for command in commands:
        yield command
        if isinstance(command, app_commands.Group):
            yield from walk(command.commands)


async def test_every_command_is_well_formed(bot: BriefBot) -> None:
    commands = list(walk(bot.tree.get_commands()))  # type: ignore[arg-type]
    assert commands
    for command in commands:
        assert NAME.match(command.name) and command.name == command.name.lower(), command.name
        assert 1 <= len(command.description) <= 100, command.name
        if isinstance(command, app_commands.Command):
            for param in command.parameters:
                assert NAME.match(param.name) and param.name == param.name.lower()
                assert 1 <= len(param.description) <= 100, (command.name, param.name)
                assert param.description != "…", "every option needs a real description"


async def test_query_commands_match_the_shared_spec(bot: BriefBot) -> None:
    tree = {c.name: c for c in bot.tree.get_commands()}
    for spec in COMMANDS:
        command = tree[spec.name]
        assert isinstance(command, app_commands.Command)
        assert command.description == spec.description
        params = [(p.name, p.required, p.description, p.autocomplete) for p in command.parameters]
        assert params == [
            (o.name, o.required, o.description, o.complete is not None) for o in spec.options
        ]


async def test_admin_commands_are_hidden_by_default_and_guild_only(bot: BriefBot) -> None:
    reload = bot.tree.get_command("reload")
    assert isinstance(reload, app_commands.Command)
    assert reload.default_permissions is not None and reload.default_permissions.manage_guild
    assert reload.guild_only
    assert reload.checks, "permissions must also be checked at run time"
