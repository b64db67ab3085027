-- Health of saved endpoints: what scheduled re-validation and the reading of Dataverse's
-- failed system jobs found, kept per endpoint so every replica's catalog shows it and a
-- restarted or different replica carries on where the last one stopped.
--   revalidation_claimed_at: when the scheduler last claimed the endpoint for a round (the
--     claim is a conditional update, so two replicas never re-validate it twice in a round);
--   failing_since / failing_reason: set while the endpoint is failing (0 and '' otherwise);
--   deliveries_*: the counts of its steps' failed and waiting system jobs, last read at
--     deliveries_checked_at, with the newest error.
CREATE TABLE endpoint_health (
    environment              TEXT   NOT NULL,
    endpoint_id              TEXT   NOT NULL,
    revalidation_claimed_at  BIGINT NOT NULL DEFAULT 0,
    failing_since            BIGINT NOT NULL DEFAULT 0,
    failing_reason           TEXT   NOT NULL DEFAULT '',
    deliveries_checked_at    BIGINT NOT NULL DEFAULT 0,
    failed_24h               BIGINT NOT NULL DEFAULT 0,
    waiting_24h              BIGINT NOT NULL DEFAULT 0,
    failed_7d                BIGINT NOT NULL DEFAULT 0,
    waiting_7d               BIGINT NOT NULL DEFAULT 0,
    last_error               TEXT   NOT NULL DEFAULT '',
    last_error_at            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (environment, endpoint_id)
);

-- Notifications to teams, written in the same transaction as the change of health they tell
-- of (an outbox): sent by the replica holding the health lease, retried until sent.
CREATE TABLE notifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at      BIGINT NOT NULL,
    team            TEXT   NOT NULL,
    channel         TEXT   NOT NULL,
    environment     TEXT   NOT NULL,
    endpoint_id     TEXT   NOT NULL,
    endpoint_name   TEXT   NOT NULL,
    event           TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX notifications_pending ON notifications (sent_at, next_attempt_at);
