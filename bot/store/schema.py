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
    (
        3,
        (
            # Feeds (issue 18): the sources a guild watches and every entry seen in them. The
            # three dedupe keys (GUID per feed; canonical URL and content hash per guild) are
            # indexed. draft_id has no foreign key: drafts live and expire apart. A removed
            # feed leaves its entries (feed_id NULL), so adding it again redrafts nothing.
            """
            CREATE TABLE feeds (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                guild_id      INTEGER NOT NULL,
                url           TEXT NOT NULL,
                title         TEXT,
                topics        TEXT NOT NULL DEFAULT '[]',   -- JSON array of topic ids
                interval_s    INTEGER NOT NULL CHECK (interval_s > 0),
                created_by    INTEGER NOT NULL,
                created_at    TEXT NOT NULL,
                etag          TEXT,
                last_modified TEXT,
                last_poll     TEXT,
                last_success  TEXT,
                last_result   TEXT,                         -- what the last poll did, one line
                last_error    TEXT,
                failing_since TEXT,
                failures      INTEGER NOT NULL DEFAULT 0,
                paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
                paused_reason TEXT,
                next_poll     TEXT NOT NULL,
                UNIQUE (guild_id, url)
            )
            """,
            "CREATE INDEX feeds_due ON feeds (next_poll) WHERE paused = 0",
            """
            CREATE TABLE feed_entries (
                id            INTEGER PRIMARY KEY,
                feed_id       INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
                guild_id      INTEGER NOT NULL,
                guid          TEXT,
                url           TEXT,                         -- canonical
                content_hash  TEXT NOT NULL,
                title         TEXT,
                first_seen    TEXT NOT NULL,
                draft_id      TEXT,                         -- the draft made, if one was
                outcome       TEXT NOT NULL                 -- 'drafting', or what became of it
            )
            """,
            "CREATE UNIQUE INDEX feed_entries_guid ON feed_entries (feed_id, guid) "
            "WHERE guid IS NOT NULL",
            "CREATE INDEX feed_entries_url ON feed_entries (guild_id, url) WHERE url IS NOT NULL",
            "CREATE INDEX feed_entries_hash ON feed_entries (guild_id, content_hash)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
assert [n for n, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "migrations numbered 1…N"
