CREATE OR REPLACE VIEW quotes_by_speaker AS
SELECT
    q.speaker,
    count(*) AS quotes,
    count(DISTINCT q.article_id) AS articles,
    min(coalesce(a.published_at, a.ingested_at)) AS first_quoted,
    max(coalesce(a.published_at, a.ingested_at)) AS last_quoted
FROM article_quotes AS q
JOIN articles AS a USING (article_id)
WHERE q.speaker IS NOT NULL
GROUP BY q.speaker;
