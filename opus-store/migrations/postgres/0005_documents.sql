CREATE TABLE documents (
    owner TEXT NOT NULL,
    collection TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    person TEXT,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner, collection, doc_key)
);
CREATE INDEX documents_by_person ON documents (owner, collection, person);
