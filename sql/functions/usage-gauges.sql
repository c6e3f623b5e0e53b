-- Time-weighted gauges (storage): a point's value holds until the next point, across periods; a
-- period's quantity is the average. Steps, carry-over into new periods.
-- after: 00004

create or replace function usage_period_ms(p_start timestamptz, p_end timestamptz)
returns numeric language sql immutable as $$ select extract(epoch from p_end - p_start) * 1000 $$;

-- Average of a gauge over a period from its integral: the time_weighted quantity, i.e.
-- round(area / period ms, 6) half away from zero, computed exactly with integer division: numeric
-- division first rounds to a scale of its own choosing, and rounding twice can move the last digit.
-- One expression without FROM, so the planner inlines it (a gauge step evaluates it four times; a
-- call that is not inlined starts an executor of its own each time).
create or replace function usage_time_weighted(p_area numeric, p_start timestamptz, p_end timestamptz)
returns numeric language sql immutable as $$
  select sign(p_area) * (div(abs(p_area) * 1000000, usage_period_ms(p_start, p_end))
                         + (2 * mod(abs(p_area) * 1000000, usage_period_ms(p_start, p_end)) >= usage_period_ms(p_start, p_end))::int) * 0.000001
$$;

-- Applies a gauge step of `p_delta` (new value minus the value it replaces) over [p_from, p_to) to
-- every period of the team it reaches, creating counters as needed; p_to null = for ever. Periods
-- are visited in time order (the global lock order). Returns the counter changes.
create or replace function usage_apply_gauge_step(
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
create or replace function usage_seed_gauges(p_period_ids bigint[]) returns setof usage_ingest_cost language sql as $$
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

revoke execute on function usage_seed_gauges(bigint[]) from public;
grant execute on function usage_seed_gauges(bigint[]) to billing_app;
revoke execute on function usage_apply_gauge_step(text, text, jsonb, timestamptz, timestamptz, numeric, bigint, bigint, text, date) from public;
grant execute on function usage_apply_gauge_step(text, text, jsonb, timestamptz, timestamptz, numeric, bigint, bigint, text, date) to billing_app;
