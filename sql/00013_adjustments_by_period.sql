-- The late usage of a period, by the period it corrects: an invoice rates its period's counters as
-- they stood at the close, i.e. the counters less the adjustments made to them since
-- (periodCountersAtClose), so the close can commit before rating and ingest waits only for the close.
create index usage_adjustments_by_period on usage_adjustments (period_id);
