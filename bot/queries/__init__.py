"""Command logic: library in, renderer-neutral Reply out. Never imports discord."""
