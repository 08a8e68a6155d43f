"""The database schema: numbered migrations, one per change, for every feature's tables.

Tracked in `PRAGMA user_version`. A migration takes the next free number when its change
lands, and must be tested from every earlier version (tests/store/test_store.py).
"""

from __future__ import annotations

# Each step runs in one transaction with the bump of user_version, so a crash mid-way leaves
# the database at the previous version and the step runs again on the next start.
# Never edit a released step: add a new one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """
            CREATE TABLE subscriptions (
                channel_id      INTEGER PRIMARY KEY,
                guild_id        INTEGER NOT NULL,
                local_time      TEXT NOT NULL CHECK (local_time GLOB '[0-2][0-9]:[0-5][0-9]'),
                timezone        TEXT NOT NULL,
                topics          TEXT NOT NULL DEFAULT '[]',   -- JSON array of topic ids
                created_by      INTEGER NOT NULL,
                updated_by      INTEGER NOT NULL,
                created_at      TEXT NOT NULL,
                updated_at      TEXT NOT NULL,                 -- when the schedule was last set
                enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
                disabled_reason TEXT,
                disabled_at     TEXT
            )
            """,
            "CREATE INDEX subscriptions_guild ON subscriptions (guild_id)",
            """
            CREATE TABLE digest_slots (
                channel_id  INTEGER NOT NULL
                            REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                local_date  TEXT NOT NULL,
                state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'skipped')),
                nonce       TEXT,
                brief_ids   TEXT NOT NULL DEFAULT '[]',       -- JSON: briefs the message shows
                message_id  INTEGER,
                reason      TEXT,
                attempts    INTEGER NOT NULL DEFAULT 0,
                claimed_at  TEXT,
                finished_at TEXT,
                PRIMARY KEY (channel_id, local_date)
            )
            """,
            "CREATE INDEX digest_slots_open ON digest_slots (state) WHERE state = 'claimed'",
            """
            CREATE TABLE sent_briefs (
                channel_id INTEGER NOT NULL
                           REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                brief_id   TEXT NOT NULL,
                sent_at    TEXT NOT NULL,
                PRIMARY KEY (channel_id, brief_id)
            )
            """,
        ),
    ),
    (
        2,
        (
            # The archive cutoff, recorded by the channel's first digest (NULL until then): the
            # order key (date, brief id) of the oldest brief it showed. Not inserting a
            # sent_briefs row per archive brief is the point: a first digest used to write one
            # per brief in the library. Channels from version 1 keep their rows and no cutoff.
            """
            ALTER TABLE subscriptions ADD COLUMN archive_date TEXT
                CHECK (archive_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]')
            """,
            """
            ALTER TABLE subscriptions ADD COLUMN archive_id TEXT
                CHECK ((archive_id IS NULL) = (archive_date IS NULL))
            """,
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
assert [n for n, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "migrations numbered 1…N"

# The data tables, parents before children: the order `briefbot db copy` writes them in (and
# clears them in reverse). A new table goes here too; one missing is copied after these.
DATA_TABLES: tuple[str, ...] = ("subscriptions", "digest_slots", "sent_briefs")


def ordered_tables(names: set[str] | frozenset[str]) -> list[str]:
    """`names` in copying order: DATA_TABLES' order first, any others after, by name."""
    return [t for t in DATA_TABLES if t in names] + sorted(set(names) - set(DATA_TABLES))
