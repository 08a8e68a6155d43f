"""Discord cogs, one extension per area; loaded by BriefBot.setup_hook from EXTENSIONS."""
