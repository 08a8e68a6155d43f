"""The PostgreSQL schema: numbered migrations mirroring `bot.store.schema` (SQLite's).

Tracked in the `schema_migrations` table (one row per applied version). Version N here holds
the same tables and columns as SQLite's version N, in PostgreSQL's own types: BIGINT ids,
TIMESTAMPTZ instants, DATE local dates, BOOLEAN flags; JSON id lists stay TEXT, as in SQLite.
Porting a SQLite migration is mechanical: the same statements with those types.

Version 3 (claim owners and leases, the shared send budget) is what several processes on one
PostgreSQL need; SQLite's migration of the same rule comes with the hardening branch, and
takes the same number when it lands (see README "Running at scale").
"""

from __future__ import annotations

# Each step runs in one transaction with its schema_migrations row, under an advisory lock,
# so processes starting together migrate once. Never edit a released step: add a new one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """
            CREATE TABLE subscriptions (
                channel_id      BIGINT PRIMARY KEY,
                guild_id        BIGINT NOT NULL,
                local_time      TEXT NOT NULL CHECK (local_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
                timezone        TEXT NOT NULL,
                topics          TEXT NOT NULL DEFAULT '[]',
                created_by      BIGINT NOT NULL,
                updated_by      BIGINT NOT NULL,
                created_at      TIMESTAMPTZ NOT NULL,
                updated_at      TIMESTAMPTZ NOT NULL,
                enabled         BOOLEAN NOT NULL DEFAULT TRUE,
                disabled_reason TEXT,
                disabled_at     TIMESTAMPTZ
            )
            """,
            "CREATE INDEX subscriptions_guild ON subscriptions (guild_id)",
            """
            CREATE TABLE digest_slots (
                channel_id  BIGINT NOT NULL
                            REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                local_date  DATE NOT NULL,
                state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'skipped')),
                nonce       TEXT,
                brief_ids   TEXT NOT NULL DEFAULT '[]',
                message_id  BIGINT,
                reason      TEXT,
                attempts    INTEGER NOT NULL DEFAULT 0,
                claimed_at  TIMESTAMPTZ,
                finished_at TIMESTAMPTZ,
                PRIMARY KEY (channel_id, local_date)
            )
            """,
            "CREATE INDEX digest_slots_open ON digest_slots (state) WHERE state = 'claimed'",
            """
            CREATE TABLE sent_briefs (
                channel_id BIGINT NOT NULL
                           REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                brief_id   TEXT NOT NULL,
                sent_at    TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (channel_id, brief_id)
            )
            """,
        ),
    ),
    (
        2,
        (
            "ALTER TABLE subscriptions ADD COLUMN archive_date DATE",
            """
            ALTER TABLE subscriptions ADD COLUMN archive_id TEXT
                CHECK ((archive_id IS NULL) = (archive_date IS NULL))
            """,
        ),
    ),
    (
        3,
        (
            # Who holds an open claim, and until when: a live claim is never taken over; an
            # expired one (or one whose process on the same host is gone) is resumed by any
            # process with the same nonce.
            "ALTER TABLE digest_slots ADD COLUMN owner_host TEXT",
            "ALTER TABLE digest_slots ADD COLUMN owner_pid INTEGER",
            "ALTER TABLE digest_slots ADD COLUMN owner_token TEXT",
            "ALTER TABLE digest_slots ADD COLUMN lease_until TIMESTAMPTZ",
            # The next free turn of each shared send budget (Discord's per-token limit).
            """
            CREATE TABLE send_budget (
                name    TEXT PRIMARY KEY,
                next_at TIMESTAMPTZ NOT NULL
            )
            """,
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
assert [n for n, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "migrations numbered 1…N"

# Tables that hold this process's or this moment's state, not the bot's data: not copied.
RUNTIME_TABLES = frozenset({"send_budget", "schema_migrations"})
# Columns that say which live process holds a claim: meaningless in another database, so a
# copy to a backend without them leaves them behind.
RUNTIME_COLUMNS = frozenset(
    {
        ("digest_slots", "owner_host"),
        ("digest_slots", "owner_pid"),
        ("digest_slots", "owner_token"),
        ("digest_slots", "lease_until"),
    }
)
