"""Run the real `briefbot` command line against a fake Discord (graceful-stop and doctor tests).

Run as ``python -m tests.robustness.runcli run`` (any `briefbot` arguments). Only the base URLs
are patched, from ``BOTPROC_BASE_URL`` and ``BOTPROC_GATEWAY_URL`` (local addresses only);
everything else — settings from the environment, logging, signals, exit code — is `briefbot`'s.
"""

from __future__ import annotations

import os
import sys

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.cli import main


def _local(name: str) -> str:
    url = os.environ.get(name, "").strip()
    # This entry point must never reach the real Discord.
    if yarl.URL(url).host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"runcli: {name} must be a local URL, got {url!r}")
    return url


if __name__ == "__main__":
    Route.BASE = _local("BOTPROC_BASE_URL")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(_local("BOTPROC_GATEWAY_URL"))
    sys.exit(main(sys.argv[1:]))
