-- usage_ingest(): counts one batch of usage events for one app in one statement (so one
-- transaction): events, counters, rollups, late-usage adjustments and the COGS ledger posting.
-- Tables and pipeline types: sql/00004_usage.sql. Called by src/usage/usage-store.ts after the batch
-- was validated and its teams checked; event types were already mapped to meter quantities
-- (p_quantities), so this function knows meters only by their code and aggregation. Each statement
-- of a plpgsql function sees what committed before it started (READ COMMITTED), which the dedup in
-- step 4 relies on.
--
--   p_events        [{i, k, t, team, at, h (hex), p, s}]: distinct idempotency keys only
--   p_quantities    [{e, m, a, q, d, u, x}]: meter quantities of the event at position e (0-based) of
--                   p_events; x, for sum and count meters, is the ceiling of one counter stripe
--                   (src/usage/meters.ts, LIMITS in src/shared/limits.ts)
--   p_now           the time of the request (windows and received_at; a team on a test clock: its clock's time for windows)
--   p_lateness      events older than p_now - p_lateness are rejected (timestamp_too_old)
--   p_skew          events newer than p_now + p_skew are rejected (timestamp_in_future)
--   p_stripe        the stripe of additive counters and rollups this call adds into: the caller's
--                   group-commit lane, so concurrent calls of one api process never wait on each
--                   other's counter rows, and a counter has few stripes (see usage_counters)
--   p_exact         decide counter ceilings event by event before storing (the second attempt after
--                   UG003; see step 3b)
--
-- Returns one row per input event (status, reason, event_id, adjusted). Raises UG001 when an event
-- in the time window has no billing period yet, before writing anything: the caller runs
-- usage_ensure_periods() in its own transaction and counts the batch again. Raises UG003 when a
-- counter stripe would pass its ceiling: the caller counts the batch again with p_exact, where the
-- events that do not fit are rejected (counter_limit) and the others count.
-- after: 00012

-- The events not accepted by this call whose key is stored already, as duplicate (same hash) or
-- conflict; a rejected event too, so that a known key is never answered as merely rejected.
create or replace function usage_ingest_known_keys(p_app text, p_ev usage_ingest_event[])
returns usage_ingest_event[] language sql stable as $$
  select array_agg(case
           when x.verdict = 'accepted' or ue.id is null then x
           when ue.request_hash = x.h then row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, null, null, null, 'duplicate', null, ue.id, x.pos)::usage_ingest_event
           else row(x.i, x.k, x.t, x.team, x.at, x.h, x.p, x.s, null, null, null, 'conflict', 'payload_differs', ue.id, x.pos)::usage_ingest_event
         end order by x.pos)
  from unnest(p_ev) x
  -- Lateral: one probe of the unique key per event, a plan no table size can turn into a scan.
  left join lateral (
    select u.id, u.request_hash from usage_events u
    where x.verdict is distinct from 'accepted' and u.app_id = p_app and u.idempotency_key = x.k
  ) ue on true
$$;

-- Rejects (counter_limit), in request order, each undecided event that would take one of its
-- additive counter stripes (p_stripe) past its ceiling, counting only the events before it that fit.
create or replace function usage_ingest_ceilings(p_ev usage_ingest_event[], p_quantities jsonb, p_stripe smallint)
returns usage_ingest_event[] language plpgsql as $$
declare
  e record;
  v_ev usage_ingest_event[] := p_ev;
  v_totals jsonb := '{}';
  v_next jsonb;
  v_fits boolean;
begin
  for e in
    select (z.v).pos, jsonb_agg(jsonb_build_object('k', concat_ws('|', (z.v).team, (z.v).period_id, q.m, q.d::text),
                                                  'team', (z.v).team, 'period', (z.v).period_id, 'm', q.m, 'd', q.d,
                                                  'q', q.q, 'x', q.x)) as qs
    from jsonb_to_recordset(p_quantities) as q(e int, m text, a text, q numeric, d jsonb, x numeric)
    cross join lateral (select p_ev[q.e + 1] as v) z
    where (z.v).verdict is null and q.a in ('sum', 'count')
    group by (z.v).pos order by (z.v).pos
  loop
    v_next := v_totals;
    v_fits := true;
    for i in 0 .. jsonb_array_length(e.qs) - 1 loop
      v_next := jsonb_set(v_next, array[e.qs -> i ->> 'k'], to_jsonb(
        coalesce((v_next ->> (e.qs -> i ->> 'k'))::numeric,
                 (select u.quantity from usage_counters u
                   where u.team_id = e.qs -> i ->> 'team' and u.period_id = (e.qs -> i ->> 'period')::bigint
                     and u.meter = e.qs -> i ->> 'm' and u.dimensions = e.qs -> i -> 'd' and u.stripe = p_stripe), 0)
        + (e.qs -> i ->> 'q')::numeric));
      v_fits := v_fits and (v_next ->> (e.qs -> i ->> 'k'))::numeric <= (e.qs -> i ->> 'x')::numeric;
    end loop;
    if v_fits then
      v_totals := v_next;
    else
      v_ev[e.pos] := row((v_ev[e.pos]).i, (v_ev[e.pos]).k, (v_ev[e.pos]).t, (v_ev[e.pos]).team, (v_ev[e.pos]).at,
                         (v_ev[e.pos]).h, (v_ev[e.pos]).p, (v_ev[e.pos]).s, (v_ev[e.pos]).period_id,
                         (v_ev[e.pos]).period_start, (v_ev[e.pos]).period_closed, 'rejected', 'counter_limit', null,
                         e.pos)::usage_ingest_event;
    end if;
  end loop;
  return v_ev;
end
$$;

create or replace function usage_ingest(
  p_app text, p_events jsonb, p_quantities jsonb, p_now timestamptz, p_lateness interval, p_skew interval,
  p_stripe smallint, p_exact boolean
) returns table (idx int, status text, reason text, event_id bigint, adjusted boolean)
language plpgsql as $$
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
  v_stripe smallint := p_stripe;
  v_over text;
begin
  select array_agg(row(e.i, e.k, e.t, e.team, e.at, decode(e.h, 'hex'), e.p, e.s,
                       null, null, null,
                       case when e.at < coalesce(tc.frozen_time, p_now) - p_lateness then 'rejected' when e.at > coalesce(tc.frozen_time, p_now) + p_skew then 'rejected' end,
                       case when e.at < coalesce(tc.frozen_time, p_now) - p_lateness then 'timestamp_too_old' when e.at > coalesce(tc.frozen_time, p_now) + p_skew then 'timestamp_in_future' end,
                       null, e.ord::int)::usage_ingest_event order by e.ord)
    into ev
    from rows from (jsonb_to_recordset(p_events) as (i int, k text, t text, team text, at timestamptz, h text, p jsonb, s text))
         with ordinality as e(i, k, t, team, at, h, p, s, ord)
    -- A team on a test clock lives in the clock's time: its window is judged at frozen_time. Lateral:
    -- one probe of the teams' key per event (a join let the planner read the whole teams table for a
    -- call of one event).
    left join lateral (
      select c.frozen_time from teams tt join test_clocks c on c.id = tt.test_clock_id where tt.id = e.team
    ) tc on true;
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

  -- 3b. Exact ceilings (p_exact): keys stored before are told apart first (duplicate or conflict:
  --     never counted, so never turned away by a ceiling), then the events are taken in request order
  --     and one that would take any of its additive counter stripes past its ceiling is rejected
  --     (counter_limit) without being stored, so a later, smaller one may still count.
  if p_exact then
    ev := usage_ingest_known_keys(p_app, ev);
    ev := usage_ingest_ceilings(ev, p_quantities, v_stripe);
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
    ev := usage_ingest_known_keys(p_app, ev);
  end if;

  -- From here on quantities find their event by position (ev[q.e + 1]). An element assignment makes
  -- PL/pgSQL keep the array expanded, so each lookup is direct; the flat array that SELECT INTO
  -- leaves would be scanned from its start for every quantity.
  ev[1] := ev[1];

  -- 5. Additive meters (sum, count): one upsert of the counters in lock order, each event's cost at
  --    the rate in effect at its own time, then one of their daily rollups (also in this call's
  --    stripe, so never waited on by the calls of this process): both grouped per row they change,
  --    not per event. Only changes to closed periods go on to step 7, with their events.
  with q as materialized (
    select q.n, (z.v).event_id, (z.v).team, (z.v).at, (z.v).period_id, (z.v).period_start, (z.v).period_closed,
           q.m as meter, q.a, q.q, q.d, q.x, q.d ->> 'provider' as provider, q.d ->> 'model' as model
    from rows from (jsonb_to_recordset(p_quantities) as (e int, m text, a text, q numeric, d jsonb, x numeric))
         with ordinality as q(e, m, a, q, d, x, n)
    cross join lateral (select ev[q.e + 1] as v) z
    where (z.v).verdict = 'accepted' and q.a in ('sum', 'count')
  ), rates as materialized (
    -- The few rates of the batch's providers and meters, fetched once.
    select r.provider, r.model, r.meter, r.effective_from, r.rate_per_unit from cost_rates r
    where (r.provider, r.meter) in (select distinct q.provider, q.meter from q)
  ), contrib as materialized (
    -- Per quantity, the rate in effect at its event's time, a model's rate before the provider's:
    -- one join and one sort for the whole batch rather than a search per quantity.
    select distinct on (q.n) q.*, q.q * coalesce(r.rate_per_unit, 0) as cost, (q.at at time zone 'UTC')::date as day
    from q left join rates r
      on r.provider = q.provider and r.meter = q.meter and (r.model = q.model or r.model is null) and r.effective_from <= q.at
    order by q.n, r.model is null, r.effective_from desc
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
    returning row(new.id, new.team_id, new.period_id, new.meter, new.dimensions, coalesce(old.cost, 0), new.cost)::usage_ingest_cost as cost,
              new.quantity
  ), counted as materialized (
    -- Reading all of `up` first makes every counter row locked before any rollup row: the global lock order.
    select count(*) as n from up
  ), rolled as (
    insert into usage_daily as ud (team_id, period_id, app_id, day, meter, dimensions, quantity, cost, events, stripe)
    select y.team, y.period_id, p_app, y.day, y.meter, y.d, sum(y.q), sum(y.cost), count(*), v_stripe
    from contrib y cross join counted
    group by y.team, y.period_id, y.day, y.meter, y.d
    order by y.team, y.period_id, y.day, y.meter, y.d
    on conflict on constraint usage_daily_pkey do update
      set quantity = ud.quantity + excluded.quantity, cost = ud.cost + excluded.cost, events = ud.events + excluded.events
  )
  -- Additive changes need no counter id: the rare adjustment (step 7) looks up this call's stripe.
  select coalesce(changes, '{}') || coalesce((select array_agg(row(
           null, y.team, y.period_id, y.period_closed, y.meter, y.d, p_app, y.day, y.event_id, true, y.q, y.cost
         )::usage_ingest_change) from contrib y where y.period_closed), '{}'),
         coalesce(costs, '{}') || coalesce((select array_agg(up.cost) from up), '{}'),
         -- A stripe past its ceiling (named in usage_ingest's comment): the whole call rolls back.
         (select min(format('%s/%s/%s', (up.cost).team, (up.cost).meter, (up.cost).d)) from up
           join (select distinct y.meter, y.x from contrib y) lim on lim.meter = (up.cost).meter
          where up.quantity > lim.x)
    into changes, costs, v_over;
  if v_over is not null then
    raise exception 'a usage counter stripe would pass its ceiling: %', v_over using errcode = 'UG003';
  end if;

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

  -- 8. Daily rollups of the non-additive changes (the additive ones were rolled up in step 5), in
  --    key order, into this call's stripe: each carries its counter's quantity and cost change.
  insert into usage_daily as ud (team_id, period_id, app_id, day, meter, dimensions, quantity, cost, events, stripe)
  select ch.team, ch.period_id, ch.app, ch.day, ch.meter, ch.d, sum(ch.dq), sum(ch.dc), count(*) filter (where ch.counts_event), v_stripe
  from unnest(changes) ch
  where ch.counter_id is not null
  group by ch.team, ch.period_id, ch.app, ch.day, ch.meter, ch.d
  order by ch.team, ch.period_id, ch.app, ch.day, ch.meter, ch.d
  on conflict on constraint usage_daily_pkey do update
    set quantity = ud.quantity + excluded.quantity, cost = ud.cost + excluded.cost, events = ud.events + excluded.events;

  -- 9. Queue the COGS of every costed counter whose exact cost moved for the next fold
  --    (sql/functions/usage-cogs.sql), then the event results.
  perform usage_queue_cogs(costs, p_app);
  return query
    select x.i, x.verdict, x.reason, x.event_id, coalesce(x.period_closed and x.verdict = 'accepted', false)
    from unnest(ev) x;
end
$$;

revoke execute on function usage_ingest(text, jsonb, jsonb, timestamptz, interval, interval, smallint, boolean) from public;
grant execute on function usage_ingest(text, jsonb, jsonb, timestamptz, interval, interval, smallint, boolean) to billing_app;
revoke execute on function usage_ingest_known_keys(text, usage_ingest_event[]) from public;
revoke execute on function usage_ingest_ceilings(usage_ingest_event[], jsonb, smallint) from public;
grant execute on function usage_ingest_known_keys(text, usage_ingest_event[]) to billing_app;
grant execute on function usage_ingest_ceilings(usage_ingest_event[], jsonb, smallint) to billing_app;
