-- COGS arithmetic shared by ingest, gauges and period operations: the cost rate in effect, and an
-- exact cost in USD to ledger micro-dollars.
-- after: 00000

-- The rate in USD per unit of `meter` for a provider/model at `at`, or null when none applies.
create or replace function usage_cost_rate(p_provider text, p_model text, p_meter text, p_at timestamptz)
returns numeric language sql stable as $$
  select r.rate_per_unit from cost_rates r
  where r.provider = p_provider and r.meter = p_meter and (r.model = p_model or r.model is null)
    and r.effective_from <= p_at
  order by r.model is null, r.effective_from desc
  limit 1
$$;

-- Exact USD cost -> ledger micro-dollars (the ledger's USD scale), half-even like src/shared/money.ts.
-- One expression and not STRICT, so the planner inlines it: it runs for every cost change.
create or replace function usage_cost_minor(p_cost numeric) returns bigint language sql immutable as $$
  select case when abs(p_cost * 1000000 - trunc(p_cost * 1000000)) = 0.5
              then (trunc(p_cost * 1000000) + mod(trunc(p_cost * 1000000), 2))::bigint
              else round(p_cost * 1000000)::bigint end
$$;
