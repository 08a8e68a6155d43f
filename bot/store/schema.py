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
        # Team digests (issue 17).
        3,
        (
            # Up to three times a day (JSON HH:MM list; local_time stays the first of them)
            # on chosen weekdays (bit 0 Monday … bit 6 Sunday; 127 every day).
            "ALTER TABLE subscriptions ADD COLUMN times TEXT NOT NULL DEFAULT '[]'",
            "UPDATE subscriptions SET times = '[\"' || local_time || '\"]'",
            """
            ALTER TABLE subscriptions ADD COLUMN days INTEGER NOT NULL DEFAULT 127
                CHECK (days BETWEEN 1 AND 127)
            """,
            # Who paused it: a member (/digest pause [until]) or the bot (403, 404, archived
            # thread …). Rows disabled before this version were paused by the bot.
            """
            ALTER TABLE subscriptions ADD COLUMN pause_kind TEXT
                CHECK (pause_kind IN ('member', 'bot'))
            """,
            "UPDATE subscriptions SET pause_kind = 'bot' WHERE enabled = 0",
            "ALTER TABLE subscriptions ADD COLUMN paused_until TEXT",  # local date: a member pause
            "ALTER TABLE subscriptions ADD COLUMN paused_by INTEGER",
            # Set once the pause's notice is claimed: one notice per pause, never a loop.
            "ALTER TABLE subscriptions ADD COLUMN notice_at TEXT",
            """
            ALTER TABLE subscriptions ADD COLUMN notice_dm INTEGER NOT NULL DEFAULT 1
                CHECK (notice_dm IN (0, 1))
            """,
            """
            ALTER TABLE subscriptions ADD COLUMN quiet INTEGER NOT NULL DEFAULT 1
                CHECK (quiet IN (0, 1))
            """,
            "ALTER TABLE subscriptions ADD COLUMN mention_role_id INTEGER",
            """
            ALTER TABLE subscriptions ADD COLUMN publish INTEGER NOT NULL DEFAULT 0
                CHECK (publish IN (0, 1))
            """,
            """
            ALTER TABLE subscriptions ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
                CHECK (kind IN ('text', 'thread', 'forum', 'announcement'))
            """,
            # A slot is (channel, local date, slot time): the key gains the time, so the table
            # is rebuilt (SQLite cannot change a primary key). Old rows get their channel's
            # time.
            """
            CREATE TABLE digest_slots_v3 (
                channel_id  INTEGER NOT NULL
                            REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                local_date  TEXT NOT NULL,
                slot_time   TEXT NOT NULL CHECK (slot_time GLOB '[0-2][0-9]:[0-5][0-9]'),
                state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'skipped')),
                nonce       TEXT,
                brief_ids   TEXT NOT NULL DEFAULT '[]',
                message_id  INTEGER,
                reason      TEXT,
                attempts    INTEGER NOT NULL DEFAULT 0,
                claimed_at  TEXT,
                finished_at TEXT,
                due_at      TEXT,     -- the UTC instant the slot was due
                seen_until  TEXT,     -- briefs first seen up to this instant were considered
                title       TEXT,     -- a forum post's title: found again before a resend
                post_id     INTEGER,  -- where the message is (a forum post's thread), for links
                last_error  TEXT,     -- the latest temporary failure; the slot was retried
                PRIMARY KEY (channel_id, local_date, slot_time)
            )
            """,
            """
            INSERT INTO digest_slots_v3 (channel_id, local_date, slot_time, state, nonce,
                brief_ids, message_id, reason, attempts, claimed_at, finished_at, post_id)
            SELECT d.channel_id, d.local_date, s.local_time, d.state, d.nonce, d.brief_ids,
                d.message_id, d.reason, d.attempts, d.claimed_at, d.finished_at, d.channel_id
            FROM digest_slots AS d JOIN subscriptions AS s USING (channel_id)
            """,
            "DROP TABLE digest_slots",
            "ALTER TABLE digest_slots_v3 RENAME TO digest_slots",
            "CREATE INDEX digest_slots_open ON digest_slots (state) WHERE state = 'claimed'",
            "CREATE INDEX digest_slots_finished ON digest_slots (finished_at)",
            # When the bot first saw each brief: after a channel's first digest, a brief is new
            # for it when first seen after its previous digest, whatever the story's date.
            """
            CREATE TABLE IF NOT EXISTS briefs_seen (
                brief_id   TEXT PRIMARY KEY,
                first_seen TEXT NOT NULL
            )
            """,
            # Shared with the review feature (issue 12), which creates the same table.
            """
            CREATE TABLE IF NOT EXISTS guild_settings (guild_id INTEGER PRIMARY KEY,
                editor_role_id INTEGER, review_channel_id INTEGER, notices_channel_id INTEGER,
                updated_at TEXT)
            """,
        ),
    ),
    (
        4,
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
    (
        5,
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
    (
        6,
        (
            # Claims with an owner and a lease (several processes on one file): the owner is a
            # process (host, pid, start token); a live lease is never taken over. A claim from
            # version 5 or earlier has no owner and no lease, so it is resumed as it was before.
            "ALTER TABLE digest_slots ADD COLUMN owner_host TEXT",
            "ALTER TABLE digest_slots ADD COLUMN owner_pid INTEGER",
            "ALTER TABLE digest_slots ADD COLUMN owner_token TEXT",
            "ALTER TABLE digest_slots ADD COLUMN lease_until TEXT",
            # The token of the owner that began sending (NULL: not begun): a graceful stop
            # releases only the claims it has not begun to send.
            "ALTER TABLE digest_slots ADD COLUMN send_started_by TEXT",
            # The requests/s budget shared by every process on the file: the next free send
            # time (Unix seconds), each send reserving the slot after it (a shared pacer).
            """
            CREATE TABLE send_pacing (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                next_at REAL NOT NULL
            )
            """,
            "INSERT INTO send_pacing (id, next_at) VALUES (1, 0)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
assert [n for n, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "migrations numbered 1…N"

# The data tables, parents before children: the order `briefbot db copy` writes them in (and
# clears them in reverse). A new table goes here, or into RUNTIME_TABLES (tests/store/
# test_copy.py fails while a table of the schema is in neither).
DATA_TABLES: tuple[str, ...] = (
    "subscriptions",
    "digest_slots",
    "sent_briefs",
    "briefs_seen",
    "guild_settings",
    "feeds",
    "feed_entries",
    "drafts",
    "audit",
)
# The moment's state, not the bot's data: never copied (each database keeps its own).
RUNTIME_TABLES = frozenset({"send_pacing", "schema_migrations"})


def ordered_tables(names: set[str] | frozenset[str]) -> list[str]:
    """The data tables among `names` in copying order: DATA_TABLES' order, any others after."""
    data = set(names) - RUNTIME_TABLES
    return [t for t in DATA_TABLES if t in data] + sorted(data - set(DATA_TABLES))
