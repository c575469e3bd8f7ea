CREATE OR REPLACE VIEW top_people_weekly AS
SELECT week, entity AS person, articles, mentions, rank
FROM top_entities_weekly
WHERE entity_type = 'PERSON' AND rank <= 10;
