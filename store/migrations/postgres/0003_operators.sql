-- Where each audited action came from: the client's address (behind trusted proxies, the one
-- they forwarded), so an audit entry can be traced to a machine as well as to a person.
-- Entries written before this column existed have ''.
ALTER TABLE audit_entries ADD COLUMN client_address TEXT NOT NULL DEFAULT '';

-- The audit log filters by a person's name as well as by their stable key.
CREATE INDEX audit_entries_actor_name ON audit_entries (lower(actor_name), id);
