CREATE TABLE IF NOT EXISTS article_entities (
    article_id VARCHAR,
    entity VARCHAR,
    entity_type VARCHAR,
    country_code VARCHAR,
    mentions INTEGER
);
