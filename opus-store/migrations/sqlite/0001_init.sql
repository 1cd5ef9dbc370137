-- Every table carries its brand; personal data is stored sealed (TEXT
-- columns holding `v1.<key>.<ciphertext>` values) or as keyed blind indexes.
-- Times are Unix milliseconds.

CREATE TABLE consents (
    brand TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    status_updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    subject BLOB,
    business_entity BLOB,
    body TEXT NOT NULL,
    PRIMARY KEY (brand, id)
);
CREATE INDEX consents_by_subject ON consents (brand, subject);
CREATE INDEX consents_by_business ON consents (brand, business_entity);
CREATE INDEX consents_by_client ON consents (brand, client_id);
CREATE INDEX consents_by_expiry ON consents (brand, expires_at);

CREATE TABLE payments (
    brand TEXT NOT NULL,
    id TEXT NOT NULL,
    consent_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    status_updated_at INTEGER NOT NULL,
    scheduled_for TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (brand, id)
);
CREATE INDEX payments_by_consent ON payments (brand, consent_id);
CREATE INDEX payments_due ON payments (brand, status, scheduled_for);

CREATE TABLE clients (
    brand TEXT NOT NULL,
    client_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    software_statement_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    registration_access_token BLOB,
    metadata TEXT NOT NULL,
    PRIMARY KEY (brand, client_id)
);
CREATE INDEX clients_by_software_statement ON clients (brand, software_statement_id);

CREATE TABLE pars (
    brand TEXT NOT NULL,
    request_uri TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (brand, request_uri)
);
CREATE INDEX pars_by_expiry ON pars (expires_at);

CREATE TABLE codes (
    brand TEXT NOT NULL,
    code BLOB NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    consent_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    grant_body TEXT NOT NULL,
    redeemed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (brand, code)
);
CREATE INDEX codes_by_expiry ON codes (expires_at);

CREATE TABLE tokens (
    brand TEXT NOT NULL,
    token BLOB NOT NULL,
    kind TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    consent_id TEXT,
    scope TEXT NOT NULL,
    certificate_thumbprint TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    subject TEXT,
    PRIMARY KEY (brand, token)
);
CREATE INDEX tokens_by_grant ON tokens (brand, grant_id);
CREATE INDEX tokens_by_consent ON tokens (brand, consent_id);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);

CREATE TABLE idempotency (
    brand TEXT NOT NULL,
    client_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    done INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    retain_until INTEGER NOT NULL,
    status INTEGER,
    body TEXT,
    PRIMARY KEY (brand, client_id, operation, idem_key)
);
CREATE INDEX idempotency_by_retention ON idempotency (retain_until);

CREATE TABLE jtis (
    brand TEXT NOT NULL,
    namespace TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (brand, namespace, jti)
);
CREATE INDEX jtis_by_expiry ON jtis (expires_at);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    brand TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    lease TEXT,
    lease_until INTEGER
);
CREATE INDEX outbox_due ON outbox (topic, state, available_at);

CREATE TABLE counters (
    counter_key TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);

CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    alg TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    brand TEXT NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    interaction_id TEXT,
    actor TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (brand, at);
