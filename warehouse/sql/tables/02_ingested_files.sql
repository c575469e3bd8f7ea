CREATE TABLE IF NOT EXISTS ingested_files (
    uri VARCHAR,
    file_uri VARCHAR,
    record_key VARCHAR,
    source VARCHAR,
    raw_format VARCHAR,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    etag VARCHAR,
    last_modified VARCHAR,
    file_sha256 VARCHAR,
    sha256 VARCHAR,
    status VARCHAR,
    reason VARCHAR,
    article_id VARCHAR,
    run_id VARCHAR,
    seen_at TIMESTAMP
);
