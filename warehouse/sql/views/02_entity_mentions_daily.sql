CREATE OR REPLACE VIEW entity_mentions_daily AS
SELECT
    CAST(coalesce(a.published_at, a.ingested_at) AS DATE) AS day,
    e.entity,
    e.entity_type,
    e.country_code,
    count(DISTINCT e.article_id) AS articles,
    sum(e.mentions) AS mentions
FROM article_entities AS e
JOIN articles AS a USING (article_id)
GROUP BY ALL;
