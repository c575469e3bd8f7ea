CREATE TABLE IF NOT EXISTS article_anchors (
    article_id VARCHAR,
    story_id VARCHAR,
    n_shingles INTEGER,
    shingle_hash UBIGINT
);
