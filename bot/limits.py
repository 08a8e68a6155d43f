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
