"""briefbot: chat-ops briefings from YAML briefs, on Discord and in the console."""
