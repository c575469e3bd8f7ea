CREATE OR REPLACE VIEW daily_articles AS
SELECT
    CAST(coalesce(published_at, ingested_at) AS DATE) AS day,
    source,
    count(*) AS articles,
    sum(word_count) AS words
FROM articles
GROUP BY ALL;
