CREATE OR REPLACE VIEW country_mentions_daily AS
SELECT day, country_code, sum(articles) AS articles, sum(mentions) AS mentions
FROM entity_mentions_daily
WHERE entity_type = 'LOCATION' AND country_code IS NOT NULL
GROUP BY ALL;
