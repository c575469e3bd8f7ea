CREATE TABLE IF NOT EXISTS article_keywords (
    article_id VARCHAR,
    keyword VARCHAR,
    score DOUBLE
);
