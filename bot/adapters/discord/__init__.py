"""Discord front end: embeds, paged views and the reply helper. Cogs live in bot/commands/."""
