-- Billing periods of usage: created on demand for ingest, trimmed to make room for explicit
-- periods, and the advisory lock class that orders a batch against period changes.
-- after: 00010

-- Advisory lock namespace of usage (first key of pg_advisory_xact_lock(int, int)); the second key
-- is a team bucket, hashtext(team_id) & 255, so a batch of 1,000 teams holds at most 256 locks.
create or replace function usage_team_lock_class() returns int language sql immutable as 'select 727002';

-- Ends an open period earlier, at p_new_end (to make room for an explicit period starting there).
-- The caller holds the team's bucket lock exclusively and has checked that no event of the period
-- lies at or after p_new_end; so only gauges change: the value in effect at p_new_end no longer
-- holds until the old end. Writes counters and rollups; returns the costs.
create or replace function usage_trim_period(p_period_id bigint, p_new_end timestamptz) returns setof usage_ingest_cost language sql as $$
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

-- The slot of a repeating cadence that holds p_at: periods [p_from, p_from + cadence), then from that
-- end again, and so on, each step in UTC, as src/workflows/periods.ts steps a subscription (a month
-- from Jan 31 is Feb 28, from there Mar 28). A cadence without months or days has a fixed length:
-- the slot is found by division instead of by steps. Strict: no cadence, no slot.
create or replace function usage_cadence_slot(p_from timestamptz, p_cadence interval, p_at timestamptz,
                                              out slot_start timestamptz, out slot_end timestamptz)
language plpgsql immutable strict as $$
declare
  v_us numeric;
begin
  if extract(year from p_cadence) = 0 and extract(month from p_cadence) = 0 and extract(day from p_cadence) = 0 then
    v_us := extract(epoch from p_cadence) * 1000000;
    slot_start := p_from + (floor(extract(epoch from p_at - p_from) * 1000000 / v_us) * v_us)::float8 * interval '1 microsecond';
  else
    slot_start := p_from;
    loop
      slot_end := date_add(slot_start, p_cadence, 'UTC');
      exit when slot_end > p_at;
      slot_start := slot_end;
    end loop;
  end if;
  slot_end := date_add(slot_start, p_cadence, 'UTC');
end
$$;

-- Creates the periods events need: for each (team, time) not covered, the next slot of the cadence
-- of the team's latest period before it (a subscription whose roll is late), else the UTC calendar
-- month of the time; either clipped to the team's neighbouring periods. A new period starts with the team's gauges
-- carried over (usage_seed_gauges). Its own short transaction, before the batch that needs it
-- (usage_ingest raises UG001): it takes the teams' gauge locks, which a batch takes only after its
-- additive counters, so taking them inside a batch, earlier, could deadlock. Returns the costs of
-- the carried-over gauges, for the COGS posting.
create or replace function usage_ensure_periods(p_teams text[], p_ats timestamptz[]) returns setof usage_ingest_cost language plpgsql as $$
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
  ), shaped as (
    select n.team, n.at, prev.cadence,
           coalesce(slot.slot_start, greatest(date_trunc('month', n.at, 'UTC'), prev.period_end)) as s,
           coalesce(slot.slot_end, date_add(date_trunc('month', n.at, 'UTC'), interval '1 month', 'UTC')) as e
    from need n
    left join lateral (
      select bp.period_end, bp.cadence from billing_periods bp
      where bp.team_id = n.team and bp.period_end <= n.at order by bp.period_end desc limit 1
    ) prev on true
    left join lateral usage_cadence_slot(prev.period_end, prev.cadence, n.at) slot on prev.cadence is not null
  ), bounds as (
    select distinct sh.team, sh.s, sh.cadence,
           least(sh.e, (select min(bp.period_start) from billing_periods bp where bp.team_id = sh.team and bp.period_start > sh.at)) as e
    from shaped sh
  ), created as (
    insert into billing_periods (team_id, period_start, period_end, source, cadence)
    select b.team, b.s, b.e, 'calendar', b.cadence from bounds b order by b.team, b.s
    on conflict do nothing
    returning billing_periods.id
  )
  select array_agg(created.id) into v_ids from created;
  return query select * from usage_seed_gauges(v_ids);
end
$$;

revoke execute on function usage_ensure_periods(text[], timestamptz[]) from public;
grant execute on function usage_ensure_periods(text[], timestamptz[]) to billing_app;
revoke execute on function usage_trim_period(bigint, timestamptz) from public;
grant execute on function usage_trim_period(bigint, timestamptz) to billing_app;
revoke execute on function usage_cadence_slot(timestamptz, interval, timestamptz) from public;
grant execute on function usage_cadence_slot(timestamptz, interval, timestamptz) to billing_app;
