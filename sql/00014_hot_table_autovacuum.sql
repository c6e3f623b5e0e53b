-- Autovacuum's ANALYZE of the usage tables ran every minute under sustained ingest: the counters and
-- rollups are updated by nearly every event, so "10 % of the rows changed" is reached in seconds, and
-- usage_events grows by 10 % in a minute or two while small. Each run sampled and sorted 30,000 rows
-- at the same moment of every minute, and the soak's slowest requests clustered there (issue #13).
-- Their plans do not depend on these statistics (counters and rollups are reached by their keys,
-- events by (team, time) and their dedup key), so they are analysed far less often. Vacuum, which
-- keeps the tables from bloating, keeps its defaults.
alter table usage_counters set (autovacuum_analyze_threshold = 10000000);
alter table usage_daily set (autovacuum_analyze_threshold = 10000000);
alter table usage_gauge_points set (autovacuum_analyze_threshold = 10000000);
alter table usage_events set (autovacuum_analyze_scale_factor = 1.0);
