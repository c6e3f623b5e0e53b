-- Guards of the usage tables (sql/00004_usage.sql): periods of a team never overlap, raw events
-- and cost rates are append-only.
-- after: 00000

-- Periods of a team never overlap: every event timestamp has at most one period. A trigger rather
-- than an exclusion constraint, whose GiST index the planner would pick for the hot per-event
-- period lookup over the cheaper btree. Every writer of periods holds the team's gauge lock or its
-- bucket lock exclusively (usage_ensure_periods, openBillingPeriod), so the check cannot race.
create or replace function billing_periods_check_overlap() returns trigger language plpgsql as $$
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

create or replace function usage_reject_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only', tg_table_name using errcode = 'restrict_violation';
end
$$;
