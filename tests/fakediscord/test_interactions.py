"""Attachments served by the fake CDN, modals, selects and persistent views after a restart."""

from __future__ import annotations

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FakeDiscord, run_client

DOWNLOAD_TIMEOUT = 0.3


@app_commands.command(name="draft", description="Draft a brief from an article file")
async def draft(interaction: discord.Interaction, file: discord.Attachment) -> None:
    """Download the attachment with aiohttp and say what came back."""
    if file.size > 1024 * 1024:
        await interaction.response.send_message(f"too large: {file.size}", ephemeral=True)
        return
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(file.url) as response,
        ):
            if response.status != 200:
                text = f"download failed: {response.status}"
            else:
                body = await response.read()
                text = f"{file.filename} {response.content_type} {len(body)}: {body.decode()}"
    except TimeoutError:
        text = "download timed out"
    await interaction.response.send_message(text, ephemeral=True)


class NoteModal(discord.ui.Modal, title="New draft"):
    """A headline and the article text, as `/brief draft` without a file will ask."""

    headline: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="Headline", max_length=100
    )
    body: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="Article", style=discord.TextStyle.paragraph, max_length=4000
    )
    source: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="Source", required=False, default="unknown"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Echo what was typed."""
        await interaction.response.send_message(
            f"{self.headline.value} | {len(self.body.value)} chars | {self.source.value}",
            ephemeral=True,
        )


@app_commands.command(name="note", description="Paste an article")
async def note(interaction: discord.Interaction) -> None:
    """Open the modal."""
    await interaction.response.send_modal(NoteModal())


class Review(discord.ui.View):
    """Persistent review controls: stable custom ids, no timeout, state in the custom id."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Publish", custom_id="review:publish")
    async def publish(
        self, interaction: discord.Interaction, button: discord.ui.Button[Review]
    ) -> None:
        """Only members with the Editors role may publish."""
        assert isinstance(interaction.user, discord.Member)
        if not any(r.name == "Editors" for r in interaction.user.roles):
            await interaction.response.send_message("Editors only.", ephemeral=True)
            return
        await interaction.response.edit_message(content="Published", view=None)

    @discord.ui.select(
        custom_id="review:speaker",
        placeholder="Fix speaker",
        options=[
            discord.SelectOption(label="Ishaq Dar", value="ishaq-dar"),
            discord.SelectOption(label="Unnamed", value="unnamed"),
        ],
    )
    async def speaker(
        self, interaction: discord.Interaction, select: discord.ui.Select[Review]
    ) -> None:
        """Redraw the preview with the chosen speaker."""
        await interaction.response.edit_message(content=f"speaker: {select.values[0]}")

    @discord.ui.button(label="Rename", custom_id="review:rename")
    async def rename(
        self, interaction: discord.Interaction, button: discord.ui.Button[Review]
    ) -> None:
        """Open a modal from the button; its submit edits this message."""
        await interaction.response.send_modal(RenameModal())


class RenameModal(discord.ui.Modal, title="Rename"):
    """One text input, submitted from the review message."""

    name: discord.ui.TextInput[RenameModal] = discord.ui.TextInput(label="New id")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Update the message the modal was opened from."""
        await interaction.response.edit_message(content=f"renamed to {self.name.value}")


@app_commands.command(name="review", description="Show a draft with review controls")
async def review(interaction: discord.Interaction) -> None:
    """Post the preview with the persistent view."""
    await interaction.response.send_message("Draft preview", view=Review())


class ReviewBot(commands.Bot):
    """Registers the persistent view on every start, as a restarted bot must."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned, intents=discord.Intents(guilds=True)
        )

    async def setup_hook(self) -> None:
        """Commands, plus the persistent view so old messages' buttons keep working."""
        for command in (draft, note, review):
            self.tree.add_command(command)
        self.add_view(Review())


async def synced(bot: ReviewBot, fake: FakeDiscord) -> None:
    """Sync the tree to the fake's guild."""
    guild = discord.Object(fake.guild_id)
    bot.tree.copy_global_to(guild=guild)
    await bot.tree.sync(guild=guild)


async def test_attachment_option_downloads_from_the_fake_cdn(fake_discord: FakeDiscord) -> None:
    article = fake_discord.add_attachment("article.txt", "Dar said: talks went well.")
    missing = fake_discord.add_attachment("gone.txt", "x", status=404)
    slow = fake_discord.add_attachment("slow.txt", "x", delay=DOWNLOAD_TIMEOUT + 0.3)
    huge = fake_discord.add_attachment("huge.txt", "tiny", size=20 * 1024 * 1024)
    async with run_client(ReviewBot(), fake_discord) as bot:
        await synced(bot, fake_discord)
        body = await fake_discord.invoke("draft", {"file": article})
        assert body["data"]["content"] == ("article.txt text/plain 26: Dar said: talks went well.")
        resolved = fake_discord.interactions()[-1].payload["data"]["resolved"]["attachments"]
        assert resolved[str(article.id)]["size"] == 26
        (download,) = fake_discord.downloads_of(article)
        assert download.status == 200 and "Authorization" not in download.headers

        body = await fake_discord.invoke("draft", {"file": missing})
        assert body["data"]["content"] == "download failed: 404"
        body = await fake_discord.invoke("draft", {"file": slow})
        assert body["data"]["content"] == "download timed out"
        body = await fake_discord.invoke("draft", {"file": huge})
        assert body["data"]["content"] == f"too large: {20 * 1024 * 1024}"
        assert fake_discord.downloads_of(huge) == []  # refused before downloading
    assert fake_discord.requests(path_contains="/attachments/") == []  # not API requests


async def test_cdn_wants_the_signed_url(fake_discord: FakeDiscord) -> None:
    article = fake_discord.add_attachment("a.txt", "text")
    url = fake_discord.attachment_url(article)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200 and await response.text() == "text"
        async with session.get(url.split("?")[0]) as response:
            assert response.status == 404
            assert await response.text() == "This content is no longer available."
    assert [d.status for d in fake_discord.downloads_of(article)] == [200]
    assert [d.status for d in fake_discord.downloads] == [200, 404]


async def test_modal_round_trip(fake_discord: FakeDiscord) -> None:
    async with run_client(ReviewBot(), fake_discord) as bot:
        await synced(bot, fake_discord)
        opened = await fake_discord.invoke("note")
        assert opened["type"] == 9 and opened["data"]["title"] == "New draft"
        # Inputs by label: discord.py gives text inputs random custom ids.
        with pytest.raises(ValueError, match="'Headline' is required"):
            fake_discord.modal_interaction({"Article": "text"})
        with pytest.raises(ValueError, match=r"takes 0\.\.100 characters"):
            fake_discord.modal_interaction({"Headline": "x" * 101, "Article": "text"})
        with pytest.raises(ValueError, match="no inputs"):
            fake_discord.modal_interaction({"Headline": "x", "Article": "y", "Colour": "red"})
        body = await fake_discord.submit_modal({"Headline": "Talks resume", "Article": "a" * 3000})
        assert body["type"] == 4
        assert body["data"]["content"] == "Talks resume | 3000 chars | unknown"
        submit = fake_discord.interactions()[-1]
        assert (
            submit.type == 5 and submit.payload["data"]["custom_id"] == opened["data"]["custom_id"]
        )


async def test_components_as_members_and_after_a_restart(fake_discord: FakeDiscord) -> None:
    editors = fake_discord.add_role("Editors")
    editor = fake_discord.add_member("erin", roles=[editors])
    reader = fake_discord.add_member("rudy")
    async with run_client(ReviewBot(), fake_discord) as bot:
        await synced(bot, fake_discord)
        await fake_discord.invoke("review")
        preview = fake_discord.interactions()[-1].original
        assert preview is not None
        message_id = int(preview["id"])

        picked = await fake_discord.click(message_id, "review:speaker", values=["unnamed"])
        assert picked["type"] == 7 and preview["content"] == "speaker: unnamed"
        with pytest.raises(ValueError, match="offers no"):
            fake_discord.component_interaction(message_id, "review:speaker", values=["nobody"])
        with pytest.raises(ValueError, match=r"takes 1\.\.1 values"):
            fake_discord.component_interaction(message_id, "review:speaker", values=[])

        opened = await fake_discord.click(message_id, "review:rename", member=editor)
        assert opened["type"] == 9
        renamed = await fake_discord.submit_modal({"New id": "talks-2026"})
        assert renamed["type"] == 7 and preview["content"] == "renamed to talks-2026"
        assert fake_discord.interactions()[-1].payload["message"]["id"] == str(message_id)

    # A new process: the view is registered again and the old message's buttons still work.
    async with run_client(ReviewBot(), fake_discord):
        refused = await fake_discord.click(message_id, "review:publish", member=reader)
        assert refused["data"]["content"] == "Editors only." and refused["data"]["flags"] == 64
        assert preview["content"] == "renamed to talks-2026"
        published = await fake_discord.click(message_id, "review:publish", member=editor)
        assert published["type"] == 7
        message = fake_discord.message(message_id)
        assert message is not None
        assert message["content"] == "Published" and message["components"] == []
