"""Long-running services: live brief reloading, the SQLite store and the digest scheduler.

Nothing here imports discord; the Discord cogs adapt these services to the gateway.
"""
