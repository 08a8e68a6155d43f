"""Discord's documented limits (developers/resources/message.mdx, application-commands.mdx).

The one place they are written down: every layer imports them from here. Where the OpenAPI spec
and the docs differ, the docs win (content: 2000, not 4000).
"""

CONTENT = 2000
NONCE = 25  # characters of a message nonce
EMBEDS_PER_MESSAGE = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256
EMBED_TOTAL = 6000
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
COMMAND_NAME = 32
COMMAND_DESCRIPTION = 100

# Permission bits (developers/topics/permissions.mdx) and the names Discord shows for them.
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
MANAGE_THREADS = 1 << 34
SEND_MESSAGES_IN_THREADS = 1 << 38
PERMISSION_NAMES = {
    VIEW_CHANNEL: "View Channel",
    SEND_MESSAGES: "Send Messages",
    EMBED_LINKS: "Embed Links",
    READ_MESSAGE_HISTORY: "Read Message History",
    MENTION_EVERYONE: "Mention @everyone, @here and All Roles",
    MANAGE_THREADS: "Manage Threads",
    SEND_MESSAGES_IN_THREADS: "Send Messages in Threads",
}
# discord.py's names for member permissions where Discord's settings show another.
_PERMISSION_LABELS = {"manage_guild": "Manage Server", "manage_emojis": "Manage Expressions"}


def permission_label(attribute: str) -> str:
    """The name Discord shows for a discord.py permission: manage_guild → Manage Server."""
    return _PERMISSION_LABELS.get(attribute) or attribute.replace("_", " ").title()


# What the bot needs to deliver a digest, per channel kind: used by the invite URL and by
# /digest resume, which names the ones missing. (Forum: a post is created with Send Messages;
# Read Message History finds an earlier post again before a resend. Announcement: crossposting
# its own messages needs nothing more.)
CHANNEL_PERMISSIONS: dict[str, tuple[int, ...]] = {
    "text": (VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS),
    "thread": (VIEW_CHANNEL, SEND_MESSAGES_IN_THREADS, EMBED_LINKS),
    "forum": (VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, READ_MESSAGE_HISTORY),
    "announcement": (VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS),
}


def missing_permissions(kind: str, granted: int) -> list[str]:
    """The names of the permissions a channel of `kind` needs that `granted` lacks."""
    if granted & ADMINISTRATOR:
        return []
    return [PERMISSION_NAMES[bit] for bit in CHANNEL_PERMISSIONS[kind] if not granted & bit]


def invite_permissions() -> int:
    """Every permission a digest needs in any kind of channel: the invite URL asks for these."""
    value = 0
    for bits in CHANNEL_PERMISSIONS.values():
        for bit in bits:
            value |= bit
    return value
