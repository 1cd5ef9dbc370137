CREATE TABLE interactions (
    brand TEXT NOT NULL,
    id TEXT NOT NULL,
    handoff BLOB,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (brand, id)
);
CREATE UNIQUE INDEX interactions_by_handoff ON interactions (brand, handoff);
CREATE INDEX interactions_by_expiry ON interactions (expires_at);
