-- Lakes made before article_anchors and article_sketches kept every sketch value as a row of
-- article_signatures (slot = its rank in the sketch; the anchors were slots 0 to 63).
-- $part of $parts: the sketches are gathered a slice of articles at a time, to stay in the memory limit.
INSERT INTO article_sketches
SELECT article_id, any_value(story_id), any_value(published_at), any_value(n_shingles),
       list(shingle_hash ORDER BY slot), true
FROM article_signatures
WHERE hash(article_id) % $parts = $part
GROUP BY article_id;

INSERT INTO article_anchors
SELECT article_id, story_id, n_shingles, shingle_hash FROM article_signatures WHERE slot < 64;

DROP TABLE article_signatures;
