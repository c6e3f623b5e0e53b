-- Usage: billing periods, raw events deduplicated by (app, idempotency key) for the life of the data,
-- running counters per team/meter/dimensions/period, daily rollups for reports, adjustments for late
-- usage into closed periods, gauge points and distinct values behind the non-additive aggregations,
-- effective-dated COGS cost rates. The functions that count a batch (usage_ingest) and keep periods
-- and gauges live in sql/functions/usage-*.sql.
--
-- Design notes (the README of src/usage/ says more):
-- * Nothing here has a TTL. The key (app_id, idempotency_key) is unique on usage_events for ever.
--   usage_events is not partitioned yet; when it is (by month of event_at), the dedup key moves to
--   its own unpartitioned table (app_id, idempotency_key, request_hash, event_id), because a unique
--   index on a partitioned table must contain the partition key.
-- * A batch meets its locks in one global order: team buckets (shared advisory), event keys,
--   additive counter rows (sorted by team, meter, dimensions, period start), teams' gauge locks
--   (exclusive advisory, sorted), non-additive counter rows (same sort), rollup rows (sorted), then
--   the ledger's rows. Concurrent batches therefore never deadlock.
-- * Additive counters and the rollups are striped per database connection (see usage_counters),
--   so concurrent batches of the same teams do not wait on each other's counter rows.
-- * A batch holds a shared advisory lock per team bucket; closing or re-shaping a period takes it
--   exclusively, so a batch never counts into a period that is being closed.
-- * Periods are created on demand by usage_ensure_periods(), in a short transaction of their own.

create table billing_periods (
  id           bigint generated always as identity primary key,
  team_id      text not null references teams (id),
  period_start timestamptz not null,
  period_end   timestamptz not null,
  status       text not null default 'open' check (status in ('open', 'closed')),
  -- 'calendar': created on demand by ingest (a UTC calendar month, clipped to its neighbours);
  -- 'explicit': opened by the subscription or contract process (src/usage/billing-periods.ts).
  source       text not null check (source in ('calendar', 'explicit')),
  created_at   timestamptz not null default now(),
  closed_at    timestamptz,
  check (period_end > period_start),
  check ((status = 'closed') = (closed_at is not null)),
  unique (team_id, period_start)
);

create trigger billing_periods_no_overlap before insert or update of period_start, period_end on billing_periods
  for each row execute function billing_periods_check_overlap();

-- Raw events, immutable. No foreign keys on this hot table: the only writer, usage_ingest(), takes
-- app, team and period from rows it has just checked or created, and a foreign key would cost a
-- lookup per row.
create table usage_events (
  id              bigint generated always as identity primary key,
  app_id          text not null,
  -- Compared byte by byte ("C"): keys are identifiers, and every comparison of them in this file
  -- uses the same collation, so the unique index serves the dedup lookups.
  idempotency_key text collate "C" not null,
  -- sha256 of the canonical (eventType, timestamp, teamId, payload): what a resend must match.
  request_hash    bytea not null,
  event_type      text not null,
  team_id         text not null,
  event_at        timestamptz not null,
  period_id       bigint not null,
  payload         jsonb not null,
  source          text not null,
  received_at     timestamptz not null,
  constraint usage_events_dedup unique (app_id, idempotency_key)
);
create index usage_events_by_team on usage_events (team_id, event_at);

-- Running totals. `quantity` is the meter's value for the period under its aggregation; `cost` is
-- the exact cumulative COGS in USD (never rounded here: the ledger gets round(new) - round(old)).
--
-- Additive counters (sum, count) are striped: each database connection adds into its own stripe
-- (usage_stripe()), so concurrent batches of the same teams never wait on one counter row; the
-- counter is the sum of its stripes. Non-additive counters have one row (stripe 0): a maximum, a
-- latest value, a distinct set or a gauge curve cannot be split.
create table usage_counters (
  id          bigint generated always as identity primary key,
  team_id     text not null,
  period_id   bigint not null references billing_periods (id),
  meter       text not null,
  dimensions  jsonb not null,
  aggregation text not null check (aggregation in ('sum', 'count', 'max', 'latest', 'unique_count', 'time_weighted')),
  quantity    numeric not null default 0,
  events      bigint not null default 0,
  cost        numeric not null default 0,
  -- latest: the event that set `quantity`, ordered by (latest_at, latest_app, latest_key).
  latest_at   timestamptz,
  latest_app  text collate "C",
  latest_key  text collate "C",
  -- time_weighted: the integral of the gauge over the whole period in unit·milliseconds (the last
  -- known value is assumed to hold until the next point); quantity = round(area / period ms, 6).
  area        numeric,
  stripe      smallint not null default 0 check (stripe between 0 and 63),
  updated_at  timestamptz not null default now(),
  constraint usage_counters_key unique (team_id, period_id, meter, dimensions, stripe)
) with (fillfactor = 70); -- room on the page for HOT updates: every batch rewrites its counters

-- Distinct values behind unique_count counters.
create table usage_counter_values (
  counter_id bigint not null references usage_counters (id),
  value      text not null,
  event_id   bigint not null,
  primary key (counter_id, value)
);

-- Points of time_weighted gauges, per series (team, meter, dimensions) across periods: a point's
-- value holds from its time until the next point of the series. Ties in time are ordered by
-- (app_id, idempotency_key) so the result never depends on arrival order.
create table usage_gauge_points (
  team_id         text not null,
  meter           text not null,
  dimensions      jsonb not null,
  at              timestamptz not null,
  app_id          text collate "C" not null,
  idempotency_key text collate "C" not null,
  value           numeric not null,
  event_id        bigint not null,
  primary key (team_id, meter, dimensions, at, app_id, idempotency_key)
);

-- Daily rollups for reports (striped like additive counters): each row holds its share of the
-- period's counters. Read by (team, period); no other index, as every index costs every batch. For additive meters
-- that is the events' own quantity and cost; for the others, the change the events made to the
-- counter (a new maximum, a new latest value, a new distinct value, a gauge step). So the rows of a
-- period always sum to its counters, whatever the aggregation.
create table usage_daily (
  team_id    text not null,
  period_id  bigint not null,
  app_id     text not null,
  day        date not null,
  meter      text not null,
  dimensions jsonb not null,
  quantity   numeric not null,
  cost       numeric not null,
  events     bigint not null,
  stripe     smallint not null default 0 check (stripe between 0 and 63),
  primary key (team_id, period_id, app_id, day, meter, dimensions, stripe)
) with (fillfactor = 70);

-- Late usage counted into a closed period under the team's `adjust` policy: what changed, which
-- events did it, which closed period it corrects. Closing the next period assigns the pending rows
-- to it (invoice_period_id), so its invoice carries them as adjustment lines.
create table usage_adjustments (
  id                bigint generated always as identity primary key,
  team_id           text not null references teams (id),
  period_id         bigint not null references billing_periods (id),
  counter_id        bigint not null references usage_counters (id),
  meter             text not null,
  dimensions        jsonb not null,
  quantity_delta    numeric not null,
  cost_delta        numeric not null,
  event_ids         bigint[] not null,
  created_at        timestamptz not null default now(),
  invoice_period_id bigint references billing_periods (id)
);
create index usage_adjustments_pending on usage_adjustments (team_id) where invoice_period_id is null;
create index usage_adjustments_by_invoice on usage_adjustments (invoice_period_id) where invoice_period_id is not null;

-- What providers charge us, effective-dated and append-only: a new rate supersedes from its
-- effective time. A model-specific rate beats a provider-wide one (model null); among equals the
-- latest effective_from at or before the usage wins.
create table cost_rates (
  id             bigint generated always as identity primary key,
  provider       text not null check (provider ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  model          text check (length(model) between 1 and 128),
  meter          text not null,
  currency       text not null default 'USD' check (currency = 'USD'),
  -- unit_cost per `per` units, e.g. 2.50 per 1000000 tokens; `per` is a power of ten so that
  -- rate_per_unit = unit_cost / per is an exact decimal.
  unit_cost      numeric not null check (unit_cost >= 0),
  per            numeric not null check (per >= 1),
  rate_per_unit  numeric not null check (rate_per_unit * per = unit_cost),
  effective_from timestamptz not null,
  published_at   timestamptz not null default now(),
  published_by   text not null,
  note           text,
  request_hash   bytea not null,
  constraint cost_rates_once unique nulls not distinct (provider, model, meter, effective_from)
);
create index cost_rates_lookup on cost_rates (provider, meter, effective_from);

-- Numbers the COGS ledger posting of each batch whose costs moved (its idempotency key).
create sequence usage_cogs_posting_seq;

create trigger usage_events_append_only before update or delete on usage_events
  for each row execute function usage_reject_change();
create trigger usage_events_no_truncate before truncate on usage_events
  for each statement execute function usage_reject_change();
create trigger cost_rates_append_only before update or delete on cost_rates
  for each row execute function usage_reject_change();
create trigger cost_rates_no_truncate before truncate on cost_rates
  for each statement execute function usage_reject_change();

-- Pipeline rows of usage_ingest (internal; sql/functions/usage-ingest.sql).
create type usage_ingest_event as (
  i             int,          -- index in the request
  k             text collate "C", -- idempotency key
  t             text,         -- event type
  team          text,
  at            timestamptz,
  h             bytea,        -- request hash
  p             jsonb,        -- payload
  s             text,         -- source
  period_id     bigint,
  period_start  timestamptz,
  period_closed boolean,
  verdict       text,         -- accepted | duplicate | conflict | rejected; null while undecided
  reason        text,
  event_id      bigint,
  pos           int           -- 1-based position in p_events (and ev)
);

-- One change a batch made to one counter, attributed to the event (and app and day) that caused it.
create type usage_ingest_change as (
  counter_id    bigint,
  team          text,
  period_id     bigint,
  period_closed boolean,
  meter         text,
  d             jsonb,
  app           text,
  day           date,
  event_id      bigint,
  counts_event  boolean,      -- false for carry-over and gauge steps reaching into a later period
  dq            numeric,      -- the change to the counter's quantity due to this event
  dc            numeric       -- the change to its exact cost due to this event
);

-- A counter's exact cost before and after one statement of the batch (for the COGS posting).
create type usage_ingest_cost as (
  counter_id    bigint,
  team          text,
  period_id     bigint,
  meter         text,
  d             jsonb,
  c0            numeric,
  c1            numeric
);

grant usage on sequence usage_cogs_posting_seq to billing_app;
grant select, insert on usage_events, usage_gauge_points, usage_counter_values, cost_rates to billing_app;
grant select, insert, update on usage_counters, usage_daily to billing_app;
grant select, insert on billing_periods, usage_adjustments to billing_app;
-- Closing a period, trimming an on-demand one, and assigning adjustments to an invoice.
grant update (status, closed_at, period_end) on billing_periods to billing_app;
grant update (invoice_period_id) on usage_adjustments to billing_app;
