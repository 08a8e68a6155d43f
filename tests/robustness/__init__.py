"""Robustness tests: the bot as a separate process, killed and restarted."""
