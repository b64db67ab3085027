-- Changes the portal made to endpoints, so every replica's catalog (the in-memory read model
-- of each environment's endpoints) learns of a write made by another replica within a second.
-- Rows are short-lived: the sweeper removes those older than an hour.
CREATE TABLE catalog_changes (
    seq         BIGSERIAL PRIMARY KEY,
    environment TEXT      NOT NULL,
    endpoint_id TEXT      NOT NULL,
    kind        TEXT      NOT NULL,
    origin      TEXT      NOT NULL,
    at          BIGINT    NOT NULL
);
CREATE INDEX catalog_changes_at ON catalog_changes (at);
