-- Usage: billing periods, raw events deduplicated by (app, idempotency key) for the life of the data,
-- running counters per team/meter/dimensions/period, daily rollups for reports, adjustments for late
-- usage into closed periods, gauge points and distinct values behind the non-additive aggregations,
-- effective-dated COGS cost rates, and usage_ingest(): one call that counts one batch.
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

-- Advisory lock namespace of usage (first key of pg_advisory_xact_lock(int, int)); the second key
-- is a team bucket, hashtext(team_id) & 255, so a batch of 1,000 teams holds at most 256 locks.
create function usage_team_lock_class() returns int language sql immutable as 'select 727002';

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

-- Periods of a team never overlap: every event timestamp has at most one period. A trigger rather
-- than an exclusion constraint, whose GiST index the planner would pick for the hot per-event
-- period lookup over the cheaper btree. Every writer of periods holds the team's gauge lock or its
-- bucket lock exclusively (usage_ensure_periods, openBillingPeriod), so the check cannot race.
create function billing_periods_check_overlap() returns trigger language plpgsql as $$
begin
  if exists (select 1 from billing_periods p
             where p.team_id = new.team_id and p.id <> new.id
               and p.period_start < new.period_end and new.period_start < p.period_end) then
    raise exception 'billing period [%, %) overlaps another period of team %', new.period_start, new.period_end, new.team_id
      using errcode = 'exclusion_violation';
  end if;
  return new;
end
$$;
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

create function usage_reject_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only', tg_table_name using errcode = 'restrict_violation';
end
$$;
create trigger usage_events_append_only before update or delete on usage_events
  for each row execute function usage_reject_change();
create trigger usage_events_no_truncate before truncate on usage_events
  for each statement execute function usage_reject_change();
create trigger cost_rates_append_only before update or delete on cost_rates
  for each row execute function usage_reject_change();
create trigger cost_rates_no_truncate before truncate on cost_rates
  for each statement execute function usage_reject_change();

-- The rate in USD per unit of `meter` for a provider/model at `at`, or null when none applies.
create function usage_cost_rate(p_provider text, p_model text, p_meter text, p_at timestamptz)
returns numeric language sql stable as $$
  select r.rate_per_unit from cost_rates r
  where r.provider = p_provider and r.meter = p_meter and (r.model = p_model or r.model is null)
    and r.effective_from <= p_at
  order by r.model is null, r.effective_from desc
  limit 1
$$;

-- The stripe this connection adds into (see usage_counters).
create function usage_stripe() returns smallint language sql stable as 'select (pg_backend_pid() % 64)::smallint';

create function usage_period_ms(p_start timestamptz, p_end timestamptz)
returns numeric language sql immutable as $$ select extract(epoch from p_end - p_start) * 1000 $$;

-- Average of a gauge over a period from its integral: the time_weighted quantity, i.e.
-- round(area / period ms, 6) half away from zero, computed exactly with integer division: numeric
-- division first rounds to a scale of its own choosing, and rounding twice can move the last digit.
create function usage_time_weighted(p_area numeric, p_start timestamptz, p_end timestamptz)
returns numeric language sql immutable as $$
  select sign(p_area) * (div(abs(p_area) * 1000000, x.len) + (2 * mod(abs(p_area) * 1000000, x.len) >= x.len)::int) * 0.000001
  from (select usage_period_ms(p_start, p_end) as len) x
$$;

-- Pipeline rows of usage_ingest (internal).
-- Pipeline rows of usage_ingest (internal).
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

-- Applies a gauge step of `p_delta` (new value minus the value it replaces) over [p_from, p_to) to
-- every period of the team it reaches, creating counters as needed; p_to null = for ever. Periods
-- are visited in time order (the global lock order). Returns the counter changes.
create function usage_apply_gauge_step(
  p_team text, p_meter text, p_dims jsonb, p_from timestamptz, p_to timestamptz, p_delta numeric,
  p_own_period bigint, p_event_id bigint, p_app text, p_day date,
  out changes usage_ingest_change[], out costs usage_ingest_cost[]
) language plpgsql as $$
#variable_conflict use_column
declare
  bp record;
  c record;
  v_area numeric;
begin
  changes := '{}';
  costs := '{}';
  for bp in
    select p.id, p.period_start, p.period_end, p.status = 'closed' as closed,
           coalesce(usage_cost_rate(p_dims ->> 'provider', p_dims ->> 'model', p_meter, p.period_start), 0) as rate
    from billing_periods p
    where p.team_id = p_team and p.period_end > p_from
      and (p_to is null or p.period_start < p_to or p.id = p_own_period)
    order by p.period_start
  loop
    v_area := p_delta * usage_period_ms(greatest(bp.period_start, p_from), least(bp.period_end, coalesce(p_to, bp.period_end)));
    insert into usage_counters as u (team_id, period_id, meter, dimensions, aggregation, area, quantity, cost, events)
    values (p_team, bp.id, p_meter, p_dims, 'time_weighted', v_area,
            usage_time_weighted(v_area, bp.period_start, bp.period_end),
            usage_time_weighted(v_area, bp.period_start, bp.period_end) * bp.rate, (bp.id = p_own_period)::int)
    on conflict on constraint usage_counters_key do update
      set area = u.area + excluded.area,
          quantity = usage_time_weighted(u.area + excluded.area, bp.period_start, bp.period_end),
          cost = usage_time_weighted(u.area + excluded.area, bp.period_start, bp.period_end) * bp.rate,
          events = u.events + excluded.events, updated_at = now()
    returning new.id, coalesce(old.quantity, 0) as q0, new.quantity as q1, coalesce(old.cost, 0) as c0, new.cost as c1
    into c;
    changes := changes || row(c.id, p_team, bp.id, bp.closed, p_meter, p_dims, p_app,
                              greatest(p_day, (bp.period_start at time zone 'UTC')::date), p_event_id,
                              bp.id = p_own_period, c.q1 - c.q0, c.c1 - c.c0)::usage_ingest_change;
    costs := costs || row(c.id, p_team, bp.id, p_meter, p_dims, c.c0, c.c1)::usage_ingest_cost;
  end loop;
end
$$;

-- Starts new periods with the team's gauges carried over: a gauge's value holds across period
-- boundaries, so a period's counter begins at the value in effect at its start (integrated over the
-- whole period, until a later point changes it). Writes counters and rollups; returns the costs.
-- Callers hold the team's gauge lock or its bucket lock exclusively.
create function usage_seed_gauges(p_period_ids bigint[]) returns setof usage_ingest_cost language sql as $$
  with periods as (
    select p.id, p.team_id, p.period_start, p.period_end from billing_periods p where p.id = any (p_period_ids)
  ), seeds as (
    select bp.id as period_id, bp.team_id as team, bp.period_start, g.meter, g.dimensions, g.app_id,
           g.value * usage_period_ms(bp.period_start, bp.period_end) as area,
           usage_time_weighted(g.value * usage_period_ms(bp.period_start, bp.period_end), bp.period_start, bp.period_end) as qty,
           coalesce(usage_cost_rate(g.dimensions ->> 'provider', g.dimensions ->> 'model', g.meter, bp.period_start), 0) as rate
    from periods bp
    cross join lateral (
      select distinct on (gp.meter, gp.dimensions) gp.meter, gp.dimensions, gp.value, gp.app_id
      from usage_gauge_points gp
      where gp.team_id = bp.team_id and gp.at < bp.period_start
      order by gp.meter, gp.dimensions, gp.at desc, gp.app_id desc, gp.idempotency_key desc
    ) g
    where g.value <> 0
  ), seeded as (
    insert into usage_counters (team_id, period_id, meter, dimensions, aggregation, area, quantity, cost)
    select s.team, s.period_id, s.meter, s.dimensions, 'time_weighted', s.area, s.qty, s.qty * s.rate
    from seeds s order by s.team, s.meter, s.dimensions, s.period_start
    returning usage_counters.id, usage_counters.team_id, usage_counters.period_id, usage_counters.meter,
              usage_counters.dimensions, usage_counters.quantity, usage_counters.cost
  ), rolled as (
    insert into usage_daily (team_id, period_id, app_id, day, meter, dimensions, quantity, cost, events)
    select sd.team_id, sd.period_id, s.app_id, (s.period_start at time zone 'UTC')::date, sd.meter, sd.dimensions, sd.quantity, sd.cost, 0
    from seeded sd join seeds s on s.period_id = sd.period_id and s.meter = sd.meter and s.dimensions = sd.dimensions
    order by 1, 2, 3, 4, 5, 6
    on conflict on constraint usage_daily_pkey do update
      set quantity = usage_daily.quantity + excluded.quantity, cost = usage_daily.cost + excluded.cost
  )
  select sd.id, sd.team_id, sd.period_id, sd.meter, sd.dimensions, 0::numeric, sd.cost from seeded sd
$$;

-- Ends an open period earlier, at p_new_end (to make room for an explicit period starting there).
-- The caller holds the team's bucket lock exclusively and has checked that no event of the period
-- lies at or after p_new_end; so only gauges change: the value in effect at p_new_end no longer
-- holds until the old end. Writes counters and rollups; returns the costs.
create function usage_trim_period(p_period_id bigint, p_new_end timestamptz) returns setof usage_ingest_cost language sql as $$
  with period as (
    select p.id, p.team_id, p.period_start, p.period_end as old_end from billing_periods p where p.id = p_period_id
  ), trimmed as (
    update billing_periods set period_end = p_new_end where id = p_period_id returning id
  ), gauges as (
    select u.id, u.team_id, u.meter, u.dimensions, u.area, u.quantity as q0, u.cost as c0, bp.period_start, bp.old_end,
           coalesce(usage_cost_rate(u.dimensions ->> 'provider', u.dimensions ->> 'model', u.meter, bp.period_start), 0) as rate,
           last.value, last.app_id
    from period bp
    join usage_counters u on u.team_id = bp.team_id and u.period_id = bp.id and u.aggregation = 'time_weighted'
    cross join lateral (
      select gp.value, gp.app_id from usage_gauge_points gp
      where gp.team_id = u.team_id and gp.meter = u.meter and gp.dimensions = u.dimensions and gp.at < p_new_end
      order by gp.at desc, gp.app_id desc, gp.idempotency_key desc limit 1
    ) last
  ), updated as (
    update usage_counters u
       set area = g.area - g.value * usage_period_ms(p_new_end, g.old_end),
           quantity = usage_time_weighted(g.area - g.value * usage_period_ms(p_new_end, g.old_end), g.period_start, p_new_end),
           cost = usage_time_weighted(g.area - g.value * usage_period_ms(p_new_end, g.old_end), g.period_start, p_new_end) * g.rate,
           updated_at = now()
      from gauges g
     where u.id = g.id
    returning u.id, u.team_id, u.period_id, u.meter, u.dimensions, u.quantity - g.q0 as dq, g.c0, u.cost as c1, g.app_id
  ), rolled as (
    insert into usage_daily (team_id, period_id, app_id, day, meter, dimensions, quantity, cost, events)
    select up.team_id, up.period_id, up.app_id, ((p_new_end - interval '1 microsecond') at time zone 'UTC')::date, up.meter, up.dimensions,
           up.dq, up.c1 - up.c0, 0
    from updated up order by 1, 2, 3, 4, 5, 6
    on conflict on constraint usage_daily_pkey do update
      set quantity = usage_daily.quantity + excluded.quantity, cost = usage_daily.cost + excluded.cost
  )
  select up.id, up.team_id, up.period_id, up.meter, up.dimensions, up.c0, up.c1
  from updated up, trimmed
$$;

-- Creates the periods events need: for each (team, time) not covered, the UTC calendar month of the
-- time, clipped to the team's neighbouring periods; a new period starts with the team's gauges
-- carried over (usage_seed_gauges). Its own short transaction, before the batch that needs it
-- (usage_ingest raises UG001): it takes the teams' gauge locks, which a batch takes only after its
-- additive counters, so taking them inside a batch, earlier, could deadlock. Returns the costs of
-- the carried-over gauges, for the COGS posting.
create function usage_ensure_periods(p_teams text[], p_ats timestamptz[]) returns setof usage_ingest_cost language plpgsql as $$
declare
  v_ids bigint[];
begin
  perform pg_advisory_xact_lock_shared(usage_team_lock_class(), b.bucket)
     from (select distinct hashtext(t) & 255 as bucket from unnest(p_teams) t order by 1) b;
  perform pg_advisory_xact_lock(hashtextextended('usage-gauge:' || g.team, 0))
     from (select distinct t as team from unnest(p_teams) t order by 1) g;
  with need as (
    select distinct n.team, n.at from unnest(p_teams, p_ats) as n(team, at)
    where not exists (select 1 from billing_periods bp where bp.team_id = n.team and bp.period_start <= n.at and n.at < bp.period_end)
  ), bounds as (
    select distinct n.team,
           greatest(date_trunc('month', n.at, 'UTC'),
                    (select max(bp.period_end) from billing_periods bp where bp.team_id = n.team and bp.period_end <= n.at)) as s,
           least(date_add(date_trunc('month', n.at, 'UTC'), interval '1 month', 'UTC'),
                 (select min(bp.period_start) from billing_periods bp where bp.team_id = n.team and bp.period_start > n.at)) as e
    from need n
  ), created as (
    insert into billing_periods (team_id, period_start, period_end, source)
    select b.team, b.s, b.e, 'calendar' from bounds b order by b.team, b.s
    on conflict do nothing
    returning billing_periods.id
  )
  select array_agg(created.id) into v_ids from created;
  return query select * from usage_seed_gauges(v_ids);
end
$$;

-- Counts one batch of usage events for one app. Called by src/usage/usage-store.ts inside the
-- batch's transaction, after the batch was validated and its teams checked; event types were
-- already mapped to meter quantities (p_quantities), so this function knows meters only by their
-- code and aggregation. Each statement of a plpgsql function sees what committed before it started
-- (READ COMMITTED), which the dedup in step 4 relies on.
--
--   p_events      [{i, k, t, team, at, h (hex), p, s}]: distinct idempotency keys only
--   p_quantities  [{e, m, a, q, d, u}]: meter quantities of the event at position e (0-based) of p_events
--   p_now         the time of the request (windows and received_at)
--   p_lateness    events older than p_now - p_lateness are rejected (timestamp_too_old)
--   p_skew        events newer than p_now + p_skew are rejected (timestamp_in_future)
--
-- Returns one 'event' row per input event (status, reason, event_id, adjusted) and one 'cost' row per
-- costed counter whose exact cost changed (cost_before, cost_after, posting_seq) for the COGS posting.
-- Raises UG001 when an event in the time window has no billing period yet, before writing anything:
-- the caller runs usage_ensure_periods() in its own transaction and counts the batch again.
create function usage_ingest(
  p_app text, p_events jsonb, p_quantities jsonb, p_now timestamptz, p_lateness interval, p_skew interval
) returns table (
  kind text, idx int, status text, reason text, event_id bigint, adjusted boolean,
  counter_id bigint, team_id text, period_id bigint, meter text, provider text, model text,
  cost_before numeric, cost_after numeric, posting_seq bigint
) language plpgsql as $$
#variable_conflict use_column
declare
  ev usage_ingest_event[];
  changes usage_ingest_change[];
  costs usage_ingest_cost[];
  step record;
  r record;
  c record;
  v_prev numeric;
  v_next timestamptz;
  v_missing boolean;
  v_inserted int;
  v_hit boolean;
  v_posting bigint;
  v_stripe smallint := usage_stripe();
begin
  select array_agg(row(e.i, e.k, e.t, e.team, e.at, decode(e.h, 'hex'), e.p, e.s,
                       null, null, null,
                       case when e.at < p_now - p_lateness then 'rejected' when e.at > p_now + p_skew then 'rejected' end,
                       case when e.at < p_now - p_lateness then 'timestamp_too_old' when e.at > p_now + p_skew then 'timestamp_in_future' end,
                       null, e.ord::int)::usage_ingest_event order by e.ord)
    into ev
    from rows from (jsonb_to_recordset(p_events) as (i int, k text, t text, team text, at timestamptz, h text, p jsonb, s text))
         with ordinality as e(i, k, t, team, at, h, p, s, ord);
  if ev is null then return; end if;

  -- 1. Share-lock the teams' buckets, in bucket order: a period close (exclusive) waits for us.
  perform pg_advisory_xact_lock_shared(usage_team_lock_class(), b.bucket)
     from (select distinct hashtext(x.team) & 255 as bucket from unnest(ev) x order by 1) b;

  -- 2. The period of each event inside the time window (events outside it were marked rejected:
  --    step 4 still tells a known key apart, as duplicate or conflict).
  select array_agg(case when x.verdict is not null then x
                        else row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, bp.id, bp.period_start, bp.status = 'closed', null, null, null, x.pos)::usage_ingest_event
                   end order by x.pos),
         bool_or(x.verdict is null and bp.id is null)
    into ev, v_missing
    from unnest(ev) x
    left join lateral (
      -- The latest period starting at or before the event (one backward step of the btree), if it
      -- still runs at the event's time.
      select p.id, p.period_start, p.period_end, p.status from billing_periods p
      where x.verdict is null and p.team_id = x.team and p.period_start <= x.at
      order by p.period_start desc limit 1
    ) bp on x.at < bp.period_end;

  -- 3. Every event in the window needs its period. Periods are created by usage_ensure_periods(),
  --    in a transaction of their own (see there); the caller runs it on this error and retries.
  if v_missing then
    raise exception 'a billing period is missing; run usage_ensure_periods and retry' using errcode = 'UG001';
  end if;

  -- A closed period under the team's `reject` policy rejects the event (step 4 may still call it a
  -- duplicate or conflict); under `adjust` it counts, as an adjustment.
  if exists (select 1 from unnest(ev) x where x.period_closed and x.verdict is null) then
    select array_agg(case when x.verdict is null and x.period_closed and t.late_usage_policy = 'reject'
                          then row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, x.period_id, x.period_start, true, 'rejected', 'period_closed', null, x.pos)::usage_ingest_event
                          else x end order by x.pos)
      into ev
      from unnest(ev) x left join teams t on t.id = x.team and x.period_closed;
  end if;

  -- 4. Insert the new events, in key order; a key the unique constraint turns away is a duplicate
  --    when its hash matches the stored one, else a conflict. That lookup is a new statement, so it
  --    sees a concurrent batch's row for the same key once the insert has waited for its commit.
  with ins as (
    insert into usage_events (app_id, idempotency_key, request_hash, event_type, team_id, event_at, period_id, payload, source, received_at)
    select p_app, x.k, x.h, x.t, x.team, x.at, x.period_id, x.p, x.s, p_now
    from unnest(ev) x where x.verdict is null order by x.k
    on conflict on constraint usage_events_dedup do nothing
    returning usage_events.id, usage_events.idempotency_key
  )
  select array_agg(case when ins.id is not null
                        then row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, x.period_id, x.period_start, x.period_closed, 'accepted', null, ins.id, x.pos)::usage_ingest_event
                        else x end order by x.pos),
         count(ins.id)
    into ev, v_inserted
    from unnest(ev) x left join ins on ins.idempotency_key = x.k;

  if v_inserted < cardinality(ev) then
    select array_agg(case
             when x.verdict = 'accepted' or ue.id is null then x
             when ue.request_hash = x.h then row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, null, null, null, 'duplicate', null, ue.id, x.pos)::usage_ingest_event
             else row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, null, null, null, 'conflict', 'payload_differs', ue.id, x.pos)::usage_ingest_event
           end order by x.pos)
      into ev
      from unnest(ev) x
      -- Lateral: one probe of the unique key per event, a plan no table size can turn into a scan.
      left join lateral (
        select u.id, u.request_hash from usage_events u
        where x.verdict is distinct from 'accepted' and u.app_id = p_app and u.idempotency_key = x.k
      ) ue on true;
  end if;

  -- 5. Additive meters (sum, count): one upsert in lock order; each event's cost at the rate in
  --    effect at its own time.
  with q as (
    select (z.v).event_id, (z.v).team, (z.v).at, (z.v).period_id, (z.v).period_start, (z.v).period_closed, q.m as meter, q.a, q.q, q.d
    from jsonb_to_recordset(p_quantities) as q(e int, m text, a text, q numeric, d jsonb)
    cross join lateral (select ev[q.e + 1] as v) z
    where (z.v).verdict = 'accepted' and q.a in ('sum', 'count')
  ), rates as materialized (
    -- The few rates of the batch's providers and meters, fetched once and searched in memory per row.
    select r.provider, r.model, r.meter, r.effective_from, r.rate_per_unit from cost_rates r
    where (r.provider, r.meter) in (select distinct q.d ->> 'provider', q.meter from q)
  ), contrib as (
    select q.*, q.q * coalesce(rt.rate_per_unit, 0) as cost
    from q left join lateral (
      select r.rate_per_unit from rates r
      where r.provider = q.d ->> 'provider' and r.meter = q.meter and (r.model = q.d ->> 'model' or r.model is null)
        and r.effective_from <= q.at
      order by r.model is null, r.effective_from desc limit 1
    ) rt on true
  ), per_counter as (
    select y.team, y.period_id, y.period_start, y.meter, y.d, y.a, sum(y.q) as q, sum(y.cost) as cost, count(*) as n
    from contrib y group by y.team, y.period_id, y.period_start, y.meter, y.d, y.a
  ), up as (
    insert into usage_counters as uc (team_id, period_id, meter, dimensions, aggregation, quantity, cost, events, stripe)
    select pc.team, pc.period_id, pc.meter, pc.d, pc.a, pc.q, pc.cost, pc.n, v_stripe
    from per_counter pc order by pc.team, pc.meter, pc.d, pc.period_start
    on conflict on constraint usage_counters_key do update
      set quantity = uc.quantity + excluded.quantity, cost = uc.cost + excluded.cost,
          events = uc.events + excluded.events, updated_at = now()
    returning row(new.id, new.team_id, new.period_id, new.meter, new.dimensions, coalesce(old.cost, 0), new.cost)::usage_ingest_cost as cost
  )
  -- Additive changes need no counter id: rollups are keyed by their dimensions, and the rare
  -- adjustment (step 7) looks up this connection's stripe.
  select coalesce(changes, '{}') || coalesce((select array_agg(row(
           null, y.team, y.period_id, y.period_closed, y.meter, y.d, p_app, (y.at at time zone 'UTC')::date, y.event_id, true, y.q, y.cost
         )::usage_ingest_change) from contrib y), '{}'),
         coalesce(costs, '{}') || coalesce((select array_agg(up.cost) from up), '{}')
    into changes, costs;

  -- 6. Non-additive meters, one quantity at a time in the global lock order.
  --    Gauges first take their team's gauge lock (exclusive, to commit): a gauge step reads its
  --    neighbouring points and reaches into every later period, so the points of one team are
  --    processed one transaction at a time, and period creation (usage_ensure_periods) waits too.
  --    Taken here, as late as possible and in one pass in team order, after the additive counters
  --    and before any gauge counter: every transaction meets these locks in the same order.
  perform pg_advisory_xact_lock(hashtextextended('usage-gauge:' || g.team, 0))
     from (select distinct (z.v).team from jsonb_to_recordset(p_quantities) as q(e int, a text)
           cross join lateral (select ev[q.e + 1] as v) z
           where q.a = 'time_weighted' and (z.v).verdict = 'accepted'
           order by 1) g;
  for r in
    select (z.v).event_id, (z.v).k, (z.v).team, (z.v).at, (z.v).period_id, (z.v).period_start, (z.v).period_closed,
           q.m as meter, q.a, q.q, q.d, q.u, ((z.v).at at time zone 'UTC')::date as day
    from jsonb_to_recordset(p_quantities) as q(e int, m text, a text, q numeric, d jsonb, u text)
    cross join lateral (select ev[q.e + 1] as v) z
    where (z.v).verdict = 'accepted' and q.a not in ('sum', 'count')
    order by (z.v).team, q.m, q.d, (z.v).period_start, (z.v).at, (z.v).k
  loop
    if r.a = 'time_weighted' then
      insert into usage_gauge_points (team_id, meter, dimensions, at, app_id, idempotency_key, value, event_id)
      values (r.team, r.meter, r.d, r.at, p_app, r.k, r.q, r.event_id);
      select (select gp.value from usage_gauge_points gp
               where gp.team_id = r.team and gp.meter = r.meter and gp.dimensions = r.d
                 and (gp.at, gp.app_id, gp.idempotency_key) < (r.at, p_app collate "C", r.k)
               order by gp.at desc, gp.app_id desc, gp.idempotency_key desc limit 1),
             (select gp.at from usage_gauge_points gp
               where gp.team_id = r.team and gp.meter = r.meter and gp.dimensions = r.d
                 and (gp.at, gp.app_id, gp.idempotency_key) > (r.at, p_app collate "C", r.k)
               order by gp.at, gp.app_id, gp.idempotency_key limit 1)
        into v_prev, v_next;
      step := usage_apply_gauge_step(r.team, r.meter, r.d, r.at, v_next, r.q - coalesce(v_prev, 0),
                                     r.period_id, r.event_id, p_app, r.day);
      changes := changes || step.changes;
      costs := costs || step.costs;
    elsif r.a = 'unique_count' then
      -- The counter is locked before its value is inserted, so two batches never wait on each
      -- other's values and counters in opposite orders.
      insert into usage_counters (team_id, period_id, meter, dimensions, aggregation)
      values (r.team, r.period_id, r.meter, r.d, r.a) on conflict on constraint usage_counters_key do nothing;
      select u.id, u.quantity, u.cost into c from usage_counters u
       where u.team_id = r.team and u.period_id = r.period_id and u.meter = r.meter and u.dimensions = r.d and u.stripe = 0 for update;
      insert into usage_counter_values (counter_id, value, event_id) values (c.id, r.u, r.event_id) on conflict do nothing;
      v_hit := found;
      update usage_counters u
         set quantity = u.quantity + v_hit::int,
             cost = (u.quantity + v_hit::int)
                    * coalesce(usage_cost_rate(r.d ->> 'provider', r.d ->> 'model', r.meter, r.period_start), 0),
             events = u.events + 1, updated_at = now()
       where u.id = c.id
       returning u.id, c.quantity as q0, u.quantity as q1, c.cost as c0, u.cost as c1 into c;
      changes := changes || row(c.id, r.team, r.period_id, r.period_closed, r.meter, r.d, p_app, r.day, r.event_id, true,
                                c.q1 - c.q0, c.c1 - c.c0)::usage_ingest_change;
      costs := costs || row(c.id, r.team, r.period_id, r.meter, r.d, c.c0, c.c1)::usage_ingest_cost;
    else
      -- max: the largest value; latest: the value of the latest event by (time, app, key).
      insert into usage_counters as u (team_id, period_id, meter, dimensions, aggregation, quantity, cost, events, latest_at, latest_app, latest_key)
      values (r.team, r.period_id, r.meter, r.d, r.a, r.q,
              r.q * coalesce(usage_cost_rate(r.d ->> 'provider', r.d ->> 'model', r.meter, r.period_start), 0), 1,
              r.at, p_app, r.k)
      on conflict on constraint usage_counters_key do update
        set quantity = case when excluded.aggregation = 'max' then greatest(u.quantity, excluded.quantity)
                            when (excluded.latest_at, excluded.latest_app, excluded.latest_key) > (u.latest_at, u.latest_app, u.latest_key) then excluded.quantity
                            else u.quantity end,
            cost = case when excluded.aggregation = 'max' then greatest(u.cost, excluded.cost)
                        when (excluded.latest_at, excluded.latest_app, excluded.latest_key) > (u.latest_at, u.latest_app, u.latest_key) then excluded.cost
                        else u.cost end,
            latest_at = greatest(u.latest_at, excluded.latest_at),
            latest_app = case when (excluded.latest_at, excluded.latest_app, excluded.latest_key) > (u.latest_at, u.latest_app, u.latest_key) then excluded.latest_app else u.latest_app end,
            latest_key = case when (excluded.latest_at, excluded.latest_app, excluded.latest_key) > (u.latest_at, u.latest_app, u.latest_key) then excluded.latest_key else u.latest_key end,
            events = u.events + 1, updated_at = now()
      returning new.id, coalesce(old.quantity, 0) as q0, new.quantity as q1, coalesce(old.cost, 0) as c0, new.cost as c1 into c;
      changes := changes || row(c.id, r.team, r.period_id, r.period_closed, r.meter, r.d, p_app, r.day, r.event_id, true,
                                c.q1 - c.q0, c.c1 - c.c0)::usage_ingest_change;
      costs := costs || row(c.id, r.team, r.period_id, r.meter, r.d, c.c0, c.c1)::usage_ingest_cost;
    end if;
  end loop;

  -- 7. Late usage in closed periods: one adjustment per counter, with the events that caused it.
  if exists (select 1 from unnest(changes) ch where ch.period_closed) then
    insert into usage_adjustments (team_id, period_id, counter_id, meter, dimensions, quantity_delta, cost_delta, event_ids)
    select ch.team, ch.period_id, u.id, ch.meter, ch.d, sum(ch.dq), sum(ch.dc),
           coalesce(array_agg(distinct ch.event_id) filter (where ch.event_id is not null), '{}')
    from unnest(changes) ch
    join usage_counters u on u.id = ch.counter_id
      or (ch.counter_id is null and u.team_id = ch.team and u.period_id = ch.period_id and u.meter = ch.meter
          and u.dimensions = ch.d and u.stripe = v_stripe)
    where ch.period_closed
    group by ch.team, ch.period_id, u.id, ch.meter, ch.d
    order by u.id;
  end if;

  -- 8. Daily rollups, in key order, into this connection's stripe. An additive event's cost is its
  --    quantity at its rate; the other changes carry the counter's cost change.
  insert into usage_daily as ud (team_id, period_id, app_id, day, meter, dimensions, quantity, cost, events, stripe)
  select ch.team, ch.period_id, ch.app, ch.day, ch.meter, ch.d, sum(ch.dq), sum(ch.dc), count(*) filter (where ch.counts_event), v_stripe
  from unnest(changes) ch
  group by ch.team, ch.period_id, ch.app, ch.day, ch.meter, ch.d
  order by ch.team, ch.period_id, ch.app, ch.day, ch.meter, ch.d
  on conflict on constraint usage_daily_pkey do update
    set quantity = ud.quantity + excluded.quantity, cost = ud.cost + excluded.cost, events = ud.events + excluded.events;

  -- 9. Results: every event, then every costed counter whose cost moved (for the ledger).
  return query
    select 'event'::text, x.i, x.verdict, x.reason, x.event_id, coalesce(x.period_closed and x.verdict = 'accepted', false),
           null::bigint, null::text, null::bigint, null::text, null::text, null::text, null::numeric, null::numeric, null::bigint
    from unnest(ev) x;
  if exists (select 1 from unnest(costs) x where x.c0 <> x.c1 and x.d ? 'provider') then
    v_posting := nextval('usage_cogs_posting_seq');
    return query
      select 'cost'::text, null::int, null::text, null::text, null::bigint, null::boolean,
             m.counter_id, m.team, m.period_id, m.meter, m.d ->> 'provider', m.d ->> 'model', m.c0, m.c1, v_posting
      from (select x.counter_id, x.team, x.period_id, x.meter, x.d,
                   (array_agg(x.c0 order by x.ord))[1] as c0, (array_agg(x.c1 order by x.ord desc))[1] as c1
            from unnest(costs) with ordinality as x(counter_id, team, period_id, meter, d, c0, c1, ord)
            where x.d ? 'provider'
            group by x.counter_id, x.team, x.period_id, x.meter, x.d) m
      where m.c0 <> m.c1;
  end if;
end
$$;

revoke execute on function usage_ingest(text, jsonb, jsonb, timestamptz, interval, interval) from public;
revoke execute on function usage_seed_gauges(bigint[]) from public;
revoke execute on function usage_ensure_periods(text[], timestamptz[]) from public;
grant execute on function usage_ensure_periods(text[], timestamptz[]) to billing_app;
revoke execute on function usage_trim_period(bigint, timestamptz) from public;
grant execute on function usage_seed_gauges(bigint[]) to billing_app;
grant execute on function usage_trim_period(bigint, timestamptz) to billing_app;
revoke execute on function usage_apply_gauge_step(text, text, jsonb, timestamptz, timestamptz, numeric, bigint, bigint, text, date) from public;
grant execute on function usage_ingest(text, jsonb, jsonb, timestamptz, interval, interval) to billing_app;
grant execute on function usage_apply_gauge_step(text, text, jsonb, timestamptz, timestamptz, numeric, bigint, bigint, text, date) to billing_app;

grant usage on sequence usage_cogs_posting_seq to billing_app;
grant select, insert on usage_events, usage_gauge_points, usage_counter_values, cost_rates to billing_app;
grant select, insert, update on usage_counters, usage_daily to billing_app;
grant select, insert on billing_periods, usage_adjustments to billing_app;
-- Closing a period, trimming an on-demand one, and assigning adjustments to an invoice.
grant update (status, closed_at, period_end) on billing_periods to billing_app;
grant update (invoice_period_id) on usage_adjustments to billing_app;
