CREATE TABLE registrations (
    owner TEXT NOT NULL,
    issuer TEXT NOT NULL,
    software_statement_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    registration_client_uri TEXT NOT NULL,
    registration_access_token TEXT NOT NULL,
    metadata_digest TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner, issuer, software_statement_id)
);
