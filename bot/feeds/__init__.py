"""Feeds: watch a guild's RSS/Atom sources, draft every new story once, queue it for review."""
