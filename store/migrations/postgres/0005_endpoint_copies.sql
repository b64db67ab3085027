-- Copies of an endpoint in other environments (Copy to environment): each row links a copy to
-- the endpoint it was copied from, so both endpoint pages can link to each other.
CREATE TABLE endpoint_copies (
    environment        TEXT   NOT NULL,
    endpoint_id        TEXT   NOT NULL,
    source_environment TEXT   NOT NULL,
    source_endpoint_id TEXT   NOT NULL,
    copied_at          BIGINT NOT NULL,
    PRIMARY KEY (environment, endpoint_id)
);
CREATE INDEX endpoint_copies_source ON endpoint_copies (source_environment, source_endpoint_id);
