"""Running the bot for real: logs, Prometheus metrics, health and readiness (no Discord imports)."""
