CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR,
    flow_run_id VARCHAR,
    source VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    state VARCHAR,
    files_seen BIGINT,
    files_new BIGINT,
    files_unchanged BIGINT,
    articles_written BIGINT,
    duplicates BIGINT,
    quarantined BIGINT,
    skipped BIGINT,
    duration_seconds DOUBLE,
    pipeline_version VARCHAR,
    error VARCHAR,
    stage_seconds VARCHAR
);
