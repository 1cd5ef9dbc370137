CREATE TABLE outages (
    brand TEXT NOT NULL,
    id TEXT NOT NULL,
    scheduled INTEGER NOT NULL,
    partial INTEGER NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER,
    explanation TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    PRIMARY KEY (brand, id)
);
CREATE INDEX outages_by_start ON outages (brand, starts_at);
CREATE TABLE call_stats (
    brand TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    day TEXT NOT NULL,
    invocations INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    rejections INTEGER NOT NULL,
    duration_ms_sum INTEGER NOT NULL,
    peak_per_second INTEGER NOT NULL,
    b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL, b3 INTEGER NOT NULL,
    b4 INTEGER NOT NULL, b5 INTEGER NOT NULL, b6 INTEGER NOT NULL, b7 INTEGER NOT NULL,
    b8 INTEGER NOT NULL, b9 INTEGER NOT NULL, b10 INTEGER NOT NULL, b11 INTEGER NOT NULL,
    PRIMARY KEY (brand, endpoint, day)
);
CREATE TABLE call_seconds (
    brand TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    second INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (brand, endpoint, second)
);
