-- Ingest, made cheaper per event (issue #16):
--
-- * Counter and rollup stripes are chosen by the caller's group-commit lane (usage_ingest's
--   p_stripe), not by the database connection: an api process writes at most
--   LIMITS.usageIngestCallsInFlightMax stripes of a counter instead of one per pooled connection, so
--   a batch updates the rows it finds (HOT updates) instead of creating new ones.
-- * No foreign key from usage_counters to billing_periods: every writer takes the period from a row
--   it has just read under the team's bucket lock, and the check cost an index probe and a KEY SHARE
--   row lock (a multixact under concurrency) per new counter row.
-- * The COGS ledger posting leaves the batch's transaction: a batch queues its net rounded
--   difference per provider in usage_cogs_queue, and a fold (usage_fold_cogs, run by every api
--   process each LIMITS.usageCogsFoldIntervalMs and by `npm run cli -- usage fold-cogs`) posts what
--   is queued as one ledger transaction and deletes it, in one transaction. Counters stay exact at
--   commit; only the COGS ledger accounts lag, by at most the fold interval.
-- Function bodies: sql/functions/usage-ingest.sql and usage-cogs.sql.

alter table usage_counters drop constraint usage_counters_period_id_fkey;

-- Rounded COGS differences queued by ingest, not yet in the ledger: the fold's durable watermark is
-- the queue itself (a row is deleted by the transaction that posts it). No index: the fold reads the
-- whole queue, which holds at most a few seconds of batches.
create table usage_cogs_queue (
  provider    text not null,
  -- Σ round(cost after) − round(cost before) of the provider's counters in one batch, micro-dollars.
  minor       bigint not null check (minor <> 0),
  counters    int not null check (counters > 0),
  app_id      text not null,
  queued_at   timestamptz not null default now()
);
grant select, insert on usage_cogs_queue to billing_app;
grant delete on usage_cogs_queue to billing_app;

drop function if exists usage_ingest(text, jsonb, jsonb, timestamptz, interval, interval, jsonb);
drop function if exists usage_stripe();
