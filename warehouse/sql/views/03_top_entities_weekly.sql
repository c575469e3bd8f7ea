CREATE OR REPLACE VIEW top_entities_weekly AS
SELECT
    week,
    entity,
    entity_type,
    country_code,
    articles,
    mentions,
    rank() OVER (PARTITION BY week, entity_type ORDER BY mentions DESC, entity) AS rank
FROM (
    SELECT
        date_trunc('week', day) AS week,
        entity,
        entity_type,
        any_value(country_code) AS country_code,
        sum(articles) AS articles,
        sum(mentions) AS mentions
    FROM entity_mentions_daily
    GROUP BY date_trunc('week', day), entity, entity_type
);
