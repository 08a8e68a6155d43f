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
            # Review and publish (issue 12): per-guild settings, stored drafts, the audit trail.
            # Created IF NOT EXISTS: team digests creates the same settings table.
            "CREATE TABLE IF NOT EXISTS guild_settings (guild_id INTEGER PRIMARY KEY, "
            "editor_role_id INTEGER, review_channel_id INTEGER, notices_channel_id INTEGER, "
            "updated_at TEXT)",
            """
            CREATE TABLE drafts (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                guild_id      INTEGER NOT NULL,
                requester_id  INTEGER NOT NULL,
                created_at    TEXT NOT NULL,
                updated_at    TEXT NOT NULL,
                expires_at    TEXT NOT NULL,
                brief_id      TEXT NOT NULL,
                brief_yaml    TEXT NOT NULL,
                notes         TEXT NOT NULL DEFAULT '[]',   -- JSON: uncertain attributions
                source_text   TEXT NOT NULL,
                source_sha256 TEXT NOT NULL CHECK (length(source_sha256) = 64),
                origin        TEXT NOT NULL CHECK (origin IN ('upload', 'paste', 'feed')),
                origin_name   TEXT,                         -- file name or feed link
                state         TEXT NOT NULL DEFAULT 'draft'
                              CHECK (state IN ('draft', 'publishing', 'published', 'discarded')),
                state_by      INTEGER,                      -- who published (or is publishing)
                state_at      TEXT,
                previews      TEXT NOT NULL DEFAULT '[]'    -- JSON: [[channel_id, message_id]]
            )
            """,
            "CREATE INDEX drafts_requester ON drafts (guild_id, requester_id, state)",
            "CREATE INDEX drafts_expiry ON drafts (expires_at)",
            """
            CREATE TABLE audit (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                at            TEXT NOT NULL,
                guild_id      INTEGER,
                user_id       INTEGER NOT NULL,
                draft_id      INTEGER,                      -- no foreign key: drafts are deleted
                brief_id      TEXT NOT NULL,
                source_sha256 TEXT,
                action        TEXT NOT NULL
                              CHECK (action IN ('published', 'replaced', 'discarded', 'expired'))
            )
            """,
            "CREATE INDEX audit_brief ON audit (brief_id, at)",
            "CREATE INDEX audit_draft ON audit (draft_id)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
assert [n for n, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "migrations numbered 1…N"
