-- The portal's own data (PostgreSQL). Times are Unix microseconds (UTC) in BIGINT columns so
-- the same Go code reads both backends; JSON lives in TEXT columns (the store never queries
-- inside it, and TEXT keeps the bytes exactly as written).

CREATE TABLE sessions (
    id_hash         TEXT   PRIMARY KEY,  -- hex SHA-256 of the cookie's session id
    user_key        TEXT   NOT NULL,
    display_name    TEXT   NOT NULL,
    username        TEXT   NOT NULL,
    tenant_id       TEXT   NOT NULL,
    roles           TEXT   NOT NULL,
    teams           TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sessions_user_key ON sessions (user_key);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE drafts (
    id               TEXT   PRIMARY KEY,
    owner_key        TEXT   NOT NULL,
    environment      TEXT   NOT NULL,
    endpoint_id      TEXT   NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('open', 'saving', 'saved')),
    version          BIGINT NOT NULL,
    data             BYTEA  NOT NULL,
    secrets_key_id   TEXT   NOT NULL DEFAULT '',
    secrets          BYTEA,
    claim_token      TEXT   NOT NULL DEFAULT '',
    claim_expires_at BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX drafts_owner_key ON drafts (owner_key, updated_at);
CREATE INDEX drafts_expires_at ON drafts (expires_at);

CREATE TABLE endpoint_owners (
    environment        TEXT   NOT NULL,
    endpoint_id        TEXT   NOT NULL,
    team               TEXT   NOT NULL,
    registered_by_key  TEXT   NOT NULL,
    registered_by_name TEXT   NOT NULL,
    registered_at      BIGINT NOT NULL,
    PRIMARY KEY (environment, endpoint_id)
);
CREATE INDEX endpoint_owners_team ON endpoint_owners (team, environment, endpoint_id);

CREATE TABLE validation_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment   TEXT   NOT NULL,
    endpoint_id   TEXT   NOT NULL DEFAULT '',
    draft_id      TEXT   NOT NULL DEFAULT '',
    draft_version BIGINT NOT NULL DEFAULT 0,
    run_by_key    TEXT   NOT NULL,
    run_by_name   TEXT   NOT NULL,
    started_at    BIGINT NOT NULL,
    duration_us   BIGINT NOT NULL,
    result        TEXT   NOT NULL CHECK (result IN ('passed', 'failed')),
    cause         TEXT   NOT NULL,
    summary       TEXT   NOT NULL,
    warnings      TEXT   NOT NULL,
    CHECK (endpoint_id <> '' OR draft_id <> '')
);
CREATE INDEX validation_runs_endpoint ON validation_runs (environment, endpoint_id, id);
CREATE INDEX validation_runs_draft ON validation_runs (draft_id, id) WHERE draft_id <> '';

CREATE TABLE audit_entries (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_key     TEXT   NOT NULL,
    actor_name    TEXT   NOT NULL,
    action        TEXT   NOT NULL,
    environment   TEXT   NOT NULL,
    endpoint_id   TEXT   NOT NULL,
    endpoint_name TEXT   NOT NULL,
    before_json   TEXT,
    after_json    TEXT,
    outcome       TEXT   NOT NULL,
    detail        TEXT   NOT NULL,
    request_id    TEXT   NOT NULL
);
CREATE INDEX audit_entries_at ON audit_entries (at, id);
CREATE INDEX audit_entries_actor ON audit_entries (actor_key, id);
CREATE INDEX audit_entries_action ON audit_entries (action, id);
CREATE INDEX audit_entries_endpoint ON audit_entries (environment, endpoint_id, id);

-- The audit trail is append-only: the API has no update or delete, and the database refuses
-- them too (including TRUNCATE), so a bug or a hand-typed statement cannot rewrite history.
CREATE FUNCTION audit_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_entries_refuse_update_delete BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_change();
CREATE TRIGGER audit_entries_refuse_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse_change();

CREATE TABLE endpoint_secrets (
    environment TEXT   NOT NULL,
    endpoint_id TEXT   NOT NULL,
    purpose     TEXT   NOT NULL,
    key_id      TEXT   NOT NULL,
    ciphertext  BYTEA  NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (environment, endpoint_id, purpose)
);
CREATE INDEX endpoint_secrets_key_id ON endpoint_secrets (key_id);
