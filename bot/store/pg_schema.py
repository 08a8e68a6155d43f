"""The PostgreSQL schema: numbered migrations mirroring `bot.store.schema` (SQLite's), 1 to 1.

Tracked in the `schema_migrations` table (one row per applied version). Version N here holds
the same tables, columns and values as SQLite's version N, so the SQLite store's statements run
unchanged on both (`bot.store.postgres` translates only the placeholders): ids are BIGINT,
instants stay UTC ISO 8601 text and local dates YYYY-MM-DD text, as in SQLite, in the "C"
collation so that text order is time order; 0/1 flags stay INTEGER; `GLOB` checks become `~`
regular expressions; AUTOINCREMENT becomes an identity column.

Porting a SQLite migration: the same step number, the same statements in these types.
"""

from __future__ import annotations

# Byte order, as SQLite compares text: ISO instants and dates then sort as time does.
T = 'TEXT COLLATE "C"'
HHMM = "'^[0-2][0-9]:[0-5][0-9]$'"

# Each step runs in one transaction with its schema_migrations row, under the writer lock, so
# processes starting together migrate once. Never edit a released step: add a new one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            f"""
            CREATE TABLE subscriptions (
                channel_id      BIGINT PRIMARY KEY,
                guild_id        BIGINT NOT NULL,
                local_time      {T} NOT NULL CHECK (local_time ~ {HHMM}),
                timezone        {T} NOT NULL,
                topics          {T} NOT NULL DEFAULT '[]',
                created_by      BIGINT NOT NULL,
                updated_by      BIGINT NOT NULL,
                created_at      {T} NOT NULL,
                updated_at      {T} NOT NULL,
                enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
                disabled_reason {T},
                disabled_at     {T}
            )
            """,
            "CREATE INDEX subscriptions_guild ON subscriptions (guild_id)",
            f"""
            CREATE TABLE digest_slots (
                channel_id  BIGINT NOT NULL
                            REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                local_date  {T} NOT NULL,
                state       {T} NOT NULL CHECK (state IN ('claimed', 'sent', 'skipped')),
                nonce       {T},
                brief_ids   {T} NOT NULL DEFAULT '[]',
                message_id  BIGINT,
                reason      {T},
                attempts    INTEGER NOT NULL DEFAULT 0,
                claimed_at  {T},
                finished_at {T},
                PRIMARY KEY (channel_id, local_date)
            )
            """,
            "CREATE INDEX digest_slots_open ON digest_slots (state) WHERE state = 'claimed'",
            f"""
            CREATE TABLE sent_briefs (
                channel_id BIGINT NOT NULL
                           REFERENCES subscriptions (channel_id) ON DELETE CASCADE,
                brief_id   {T} NOT NULL,
                sent_at    {T} NOT NULL,
                PRIMARY KEY (channel_id, brief_id)
            )
            """,
        ),
    ),
    (
        2,
        (
            f"""
            ALTER TABLE subscriptions ADD COLUMN archive_date {T}
                CHECK (archive_date ~ '^[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]$')
            """,
            f"""
            ALTER TABLE subscriptions ADD COLUMN archive_id {T}
                CHECK ((archive_id IS NULL) = (archive_date IS NULL))
            """,
        ),
    ),
    (
        # Team digests: several times a day, weekdays, pauses, notices, the slot key gains
        # the slot time, first-seen times, guild settings.
        3,
        (
            f"ALTER TABLE subscriptions ADD COLUMN times {T} NOT NULL DEFAULT '[]'",
            "UPDATE subscriptions SET times = '[\"' || local_time || '\"]'",
            """
            ALTER TABLE subscriptions ADD COLUMN days INTEGER NOT NULL DEFAULT 127
                CHECK (days BETWEEN 1 AND 127)
            """,
            f"""
            ALTER TABLE subscriptions ADD COLUMN pause_kind {T}
                CHECK (pause_kind IN ('member', 'bot'))
            """,
            "UPDATE subscriptions SET pause_kind = 'bot' WHERE enabled = 0",
            f"ALTER TABLE subscriptions ADD COLUMN paused_until {T}",
            "ALTER TABLE subscriptions ADD COLUMN paused_by BIGINT",
            f"ALTER TABLE subscriptions ADD COLUMN notice_at {T}",
            """
            ALTER TABLE subscriptions ADD COLUMN notice_dm INTEGER NOT NULL DEFAULT 1
                CHECK (notice_dm IN (0, 1))
            """,
            """
            ALTER TABLE subscriptions ADD COLUMN quiet INTEGER NOT NULL DEFAULT 1
                CHECK (quiet IN (0, 1))
            """,
            "ALTER TABLE subscriptions ADD COLUMN mention_role_id BIGINT",
            """
            ALTER TABLE subscriptions ADD COLUMN publish INTEGER NOT NULL DEFAULT 0
                CHECK (publish IN (0, 1))
            """,
            f"""
            ALTER TABLE subscriptions ADD COLUMN kind {T} NOT NULL DEFAULT 'text'
                CHECK (kind IN ('text', 'thread', 'forum', 'announcement'))
            """,
            # PostgreSQL changes a primary key in place (SQLite rebuilds the table); old rows
            # get their channel's time, and their message is in the channel itself.
            f"ALTER TABLE digest_slots ADD COLUMN slot_time {T} CHECK (slot_time ~ {HHMM})",
            f"ALTER TABLE digest_slots ADD COLUMN due_at {T}",
            f"ALTER TABLE digest_slots ADD COLUMN seen_until {T}",
            f"ALTER TABLE digest_slots ADD COLUMN title {T}",
            "ALTER TABLE digest_slots ADD COLUMN post_id BIGINT",
            f"ALTER TABLE digest_slots ADD COLUMN last_error {T}",
            """
            UPDATE digest_slots AS d SET slot_time = s.local_time, post_id = d.channel_id
            FROM subscriptions AS s WHERE s.channel_id = d.channel_id
            """,
            "ALTER TABLE digest_slots ALTER COLUMN slot_time SET NOT NULL",
            "ALTER TABLE digest_slots DROP CONSTRAINT digest_slots_pkey",
            "ALTER TABLE digest_slots ADD PRIMARY KEY (channel_id, local_date, slot_time)",
            "CREATE INDEX digest_slots_finished ON digest_slots (finished_at)",
            f"""
            CREATE TABLE IF NOT EXISTS briefs_seen (
                brief_id   {T} PRIMARY KEY,
                first_seen {T} NOT NULL
            )
            """,
            f"""
            CREATE TABLE IF NOT EXISTS guild_settings (guild_id BIGINT PRIMARY KEY,
                editor_role_id BIGINT, review_channel_id BIGINT, notices_channel_id BIGINT,
                updated_at {T})
            """,
        ),
    ),
    (
        4,
        (
            # Feeds: the sources a guild watches and every entry seen in them.
            f"""
            CREATE TABLE feeds (
                id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                guild_id      BIGINT NOT NULL,
                url           {T} NOT NULL,
                title         {T},
                topics        {T} NOT NULL DEFAULT '[]',
                interval_s    BIGINT NOT NULL CHECK (interval_s > 0),
                created_by    BIGINT NOT NULL,
                created_at    {T} NOT NULL,
                etag          {T},
                last_modified {T},
                last_poll     {T},
                last_success  {T},
                last_result   {T},
                last_error    {T},
                failing_since {T},
                failures      INTEGER NOT NULL DEFAULT 0,
                paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
                paused_reason {T},
                next_poll     {T} NOT NULL,
                UNIQUE (guild_id, url)
            )
            """,
            "CREATE INDEX feeds_due ON feeds (next_poll) WHERE paused = 0",
            f"""
            CREATE TABLE feed_entries (
                id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                feed_id       BIGINT REFERENCES feeds (id) ON DELETE SET NULL,
                guild_id      BIGINT NOT NULL,
                guid          {T},
                url           {T},
                content_hash  {T} NOT NULL,
                title         {T},
                first_seen    {T} NOT NULL,
                draft_id      {T},
                outcome       {T} NOT NULL
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
            # Review and publish: guild settings (also made by 3), drafts, the audit trail.
            "CREATE TABLE IF NOT EXISTS guild_settings (guild_id BIGINT PRIMARY KEY, "
            "editor_role_id BIGINT, review_channel_id BIGINT, notices_channel_id BIGINT, "
            f"updated_at {T})",
            f"""
            CREATE TABLE drafts (
                id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                guild_id      BIGINT NOT NULL,
                requester_id  BIGINT NOT NULL,
                created_at    {T} NOT NULL,
                updated_at    {T} NOT NULL,
                expires_at    {T} NOT NULL,
                brief_id      {T} NOT NULL,
                brief_yaml    {T} NOT NULL,
                notes         {T} NOT NULL DEFAULT '[]',
                source_text   {T} NOT NULL,
                source_sha256 {T} NOT NULL CHECK (length(source_sha256) = 64),
                origin        {T} NOT NULL CHECK (origin IN ('upload', 'paste', 'feed')),
                origin_name   {T},
                state         {T} NOT NULL DEFAULT 'draft'
                              CHECK (state IN ('draft', 'publishing', 'published', 'discarded')),
                state_by      BIGINT,
                state_at      {T},
                previews      {T} NOT NULL DEFAULT '[]'
            )
            """,
            "CREATE INDEX drafts_requester ON drafts (guild_id, requester_id, state)",
            "CREATE INDEX drafts_expiry ON drafts (expires_at)",
            f"""
            CREATE TABLE audit (
                id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                at            {T} NOT NULL,
                guild_id      BIGINT,
                user_id       BIGINT NOT NULL,
                draft_id      BIGINT,
                brief_id      {T} NOT NULL,
                source_sha256 {T},
                action        {T} NOT NULL
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
            # Claims with an owner (host, pid, start token) and a lease; the token of the
            # owner that began sending; the requests/s budget shared by every process.
            f"ALTER TABLE digest_slots ADD COLUMN owner_host {T}",
            "ALTER TABLE digest_slots ADD COLUMN owner_pid BIGINT",
            f"ALTER TABLE digest_slots ADD COLUMN owner_token {T}",
            f"ALTER TABLE digest_slots ADD COLUMN lease_until {T}",
            f"ALTER TABLE digest_slots ADD COLUMN send_started_by {T}",
            """
            CREATE TABLE send_pacing (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                next_at DOUBLE PRECISION NOT NULL
            )
            """,
            "INSERT INTO send_pacing (id, next_at) VALUES (1, 0)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
assert [n for n, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "migrations numbered 1…N"
