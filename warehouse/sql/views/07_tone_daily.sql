CREATE OR REPLACE VIEW tone_daily AS
SELECT
    CAST(coalesce(published_at, ingested_at) AS DATE) AS day,
    source,
    count(tone) AS articles,
    avg(tone) AS tone,
    avg(tone_positive) AS tone_positive,
    avg(tone_negative) AS tone_negative
FROM articles
WHERE tone IS NOT NULL
GROUP BY ALL;
