CREATE OR REPLACE VIEW top_places_weekly AS
SELECT week, entity AS place, country_code, articles, mentions, rank
FROM top_entities_weekly
WHERE entity_type = 'LOCATION' AND rank <= 10;
