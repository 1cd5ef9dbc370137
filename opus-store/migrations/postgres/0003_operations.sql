CREATE TABLE outages (
    brand TEXT NOT NULL,
    id TEXT NOT NULL,
    scheduled BIGINT NOT NULL,
    partial BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    explanation TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    PRIMARY KEY (brand, id)
);
CREATE INDEX outages_by_start ON outages (brand, starts_at);
CREATE TABLE call_stats (
    brand TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    day TEXT NOT NULL,
    invocations BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    rejections BIGINT NOT NULL,
    duration_ms_sum BIGINT NOT NULL,
    peak_per_second BIGINT NOT NULL,
    b0 BIGINT NOT NULL, b1 BIGINT NOT NULL, b2 BIGINT NOT NULL, b3 BIGINT NOT NULL,
    b4 BIGINT NOT NULL, b5 BIGINT NOT NULL, b6 BIGINT NOT NULL, b7 BIGINT NOT NULL,
    b8 BIGINT NOT NULL, b9 BIGINT NOT NULL, b10 BIGINT NOT NULL, b11 BIGINT NOT NULL,
    PRIMARY KEY (brand, endpoint, day)
);
CREATE TABLE call_seconds (
    brand TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    second BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (brand, endpoint, second)
);
