CREATE TABLE IF NOT EXISTS article_signatures (
    article_id VARCHAR,
    story_id VARCHAR,
    published_at TIMESTAMP,
    n_shingles INTEGER,
    slot SMALLINT,
    shingle_hash UBIGINT
);
