"""The daily digest: what it holds, time and zone input, when a slot is due, the scheduler, its
replies. Its cog (bot/commands/digest.py), its Discord poster (bot/adapters/discord/poster.py)
and its SQL (bot/store/) are the rest of it.
"""
