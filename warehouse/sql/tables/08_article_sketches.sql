CREATE TABLE IF NOT EXISTS article_sketches (
    article_id VARCHAR,
    story_id VARCHAR,
    published_at TIMESTAMP,
    n_shingles INTEGER,
    sketch UBIGINT[],
    anchored BOOLEAN
);
