CREATE TABLE documents (
    owner TEXT NOT NULL,
    collection TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    person TEXT,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, collection, doc_key)
);
CREATE INDEX documents_by_person ON documents (owner, collection, person);
