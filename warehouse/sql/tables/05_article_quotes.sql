CREATE TABLE IF NOT EXISTS article_quotes (
    article_id VARCHAR,
    ordinal INTEGER,
    quote VARCHAR,
    speaker VARCHAR
);
