-- Articles are partitioned by publication month: the writer's folders are year=YYYY/month=M.
ALTER TABLE articles SET PARTITIONED BY (year(published_at), month(published_at));
