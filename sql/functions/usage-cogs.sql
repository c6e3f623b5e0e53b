-- The COGS ledger posting of counter cost changes, for ingest and period operations alike.
-- after: 00004

-- The COGS ledger postings of counter cost changes. Rounding by difference: a counter keeps its exact
-- cumulative cost, and what reaches the ledger for it is round(after) − round(before) micro-dollars
-- (half-even), so the postings of a counter stripe sum to the rounded exact cost of that stripe.
--
-- Ingest queues its differences (usage_queue_cogs, in the batch's transaction) and a fold posts the
-- queue (usage_fold_cogs); the period operations post theirs at once (usage_post_cogs). Both post
-- through usage_post_cogs_nets, the one place the posting is built.
-- after: 00004

-- Σ per provider of the rounded differences of a set of counter cost changes (nonzero nets only).
-- The changes of one counter chain (each starts where the one before it ended), so the sum of their
-- rounded differences is round(last after) − round(first before): no need to pair them up.
create or replace function usage_cogs_nets(p_costs usage_ingest_cost[])
returns table (provider text, minor bigint, counters bigint) language sql stable as $$
  select n.provider, n.minor, n.counters
  from (
    select x.d ->> 'provider' as provider, sum(usage_cost_minor(x.c1) - usage_cost_minor(x.c0))::bigint as minor,
           count(distinct x.counter_id) as counters
    from unnest(p_costs) x
    where x.d ? 'provider' and x.c0 <> x.c1
    group by x.d ->> 'provider'
  ) n
  where n.minor <> 0
$$;

-- Queues the rounded differences of a batch for the next fold (one row per provider that moved).
create or replace function usage_queue_cogs(p_costs usage_ingest_cost[], p_app text) returns void language sql as $$
  insert into usage_cogs_queue (provider, minor, counters, app_id)
  select n.provider, n.minor, n.counters, p_app from usage_cogs_nets(p_costs) n order by n.provider
$$;

-- Posts everything queued for the providers in p_accounts as one ledger transaction (cogs:<n>) and
-- deletes it, in the caller's transaction: a queued row is either still queued or in the ledger,
-- never both. Returns the posting number, or null when nothing was queued.
create or replace function usage_fold_cogs(p_accounts jsonb, p_actor text, p_at timestamptz)
returns bigint language plpgsql as $$
declare
  v_nets jsonb;
begin
  perform pg_advisory_xact_lock(usage_team_lock_class(), -1); -- one fold at a time; a second one waits, then posts what is left
  with taken as (
    delete from usage_cogs_queue q where p_accounts ? q.provider returning q.provider, q.minor, q.counters
  )
  select jsonb_agg(jsonb_build_array(n.provider, n.minor::text, n.counters) order by n.provider) into v_nets
  from (select t.provider, sum(t.minor) as minor, sum(t.counters) as counters from taken t group by t.provider) n
  where n.minor <> 0;
  return usage_post_cogs_nets(v_nets, p_accounts, p_actor, p_at);
end
$$;

-- Posts the COGS of a set of counter cost changes now (period operations); see usage_post_cogs_nets.
create or replace function usage_post_cogs(p_costs usage_ingest_cost[], p_accounts jsonb, p_actor text, p_at timestamptz)
returns bigint language sql as $$
  select usage_post_cogs_nets(
    (select jsonb_agg(jsonb_build_array(n.provider, n.minor::text, n.counters) order by n.provider) from usage_cogs_nets(p_costs) n),
    p_accounts, p_actor, p_at)
$$;

-- Posts nets [[provider, minor (text), counters], ...] and returns the posting number, or null when
-- p_nets is null (nothing moved).
--
-- One ledger transaction per call, keyed cogs:<n> in scope usage-cogs: debit cogs:<provider>,
-- credit payable:<provider> (the other way round when a gauge correction lowered a cost), split into
-- cogs:<n>:1, :2, ... past LIMITS.ledgerLegsPerTransactionMax (512) legs. The legs go to the account
-- shard n % shards, so successive postings spread over the shards.
--
-- p_accounts: {"<provider>": [<cogs account>, <payable account>]} in ledger_post's account format,
-- built by the chart of accounts (src/ledger/accounts.ts), which stays the one place codes are made.
create or replace function usage_post_cogs_nets(p_nets jsonb, p_accounts jsonb, p_actor text, p_at timestamptz)
returns bigint language plpgsql as $$
declare
  v_seq bigint;
  v_nets jsonb := p_nets;
  v_missing text;
  v_transactions jsonb;
  v_accounts jsonb;
begin
  if v_nets is null then return null; end if;

  select min(n ->> 0) into v_missing from jsonb_array_elements(v_nets) n where not p_accounts ? (n ->> 0);
  if v_missing is not null then
    raise exception 'no COGS accounts given for provider %', v_missing using errcode = 'UG002';
  end if;

  v_seq := nextval('usage_cogs_posting_seq');
  with nets as (
    select n ->> 0 as provider, (n ->> 1)::bigint as minor, (n ->> 2)::bigint as counters,
           (row_number() over (order by n ->> 0) - 1) / 256 as part,
           p_accounts -> (n ->> 0) -> 0 as cogs, p_accounts -> (n ->> 0) -> 1 as payable
    from jsonb_array_elements(v_nets) n
  ), legs as (
    select n.part, n.provider, n.counters, l.ord, l.account, l.side, abs(n.minor) as amount,
           (v_seq % (l.account ->> 'shards')::int)::int as shard
    from nets n
    cross join lateral (values
      (1, case when n.minor > 0 then n.cogs else n.payable end, 'debit'),
      (2, case when n.minor > 0 then n.payable else n.cogs end, 'credit')) as l(ord, account, side)
  ), parts as (
    select l.part,
           jsonb_build_object(
             'scope', 'usage-cogs',
             'key', 'cogs:' || v_seq || case when l.part = 0 then '' else ':' || l.part end,
             'code', 'cogs_accrual',
             'effective_at', p_at,
             'metadata', jsonb_build_object('actor', p_actor, 'counters', sum(l.counters) filter (where l.ord = 1)),
             'legs', jsonb_agg(jsonb_build_object('account', l.account ->> 'code', 'shard', l.shard, 'side', l.side,
                                                  'amount', l.amount::text) order by l.provider, l.ord)) as body
    from legs l group by l.part
  )
  select jsonb_agg(p.body || jsonb_build_object(
                     'idx', p.part, 'id', uuidv7(),
                     -- Deterministic: a jsonb's text form orders its keys, so equal postings hash equal.
                     'hash', encode(sha256(convert_to(p.body::text, 'UTF8')), 'hex')) order by p.part),
         (select jsonb_agg(distinct l2.account) from legs l2)
    into v_transactions, v_accounts
  from parts p;

  perform ledger_post(v_accounts, v_transactions);
  return v_seq;
end
$$;

revoke execute on function usage_cogs_nets(usage_ingest_cost[]) from public;
revoke execute on function usage_queue_cogs(usage_ingest_cost[], text) from public;
revoke execute on function usage_fold_cogs(jsonb, text, timestamptz) from public;
revoke execute on function usage_post_cogs(usage_ingest_cost[], jsonb, text, timestamptz) from public;
revoke execute on function usage_post_cogs_nets(jsonb, jsonb, text, timestamptz) from public;
grant execute on function usage_cogs_nets(usage_ingest_cost[]) to billing_app;
grant execute on function usage_queue_cogs(usage_ingest_cost[], text) to billing_app;
grant execute on function usage_fold_cogs(jsonb, text, timestamptz) to billing_app;
grant execute on function usage_post_cogs(usage_ingest_cost[], jsonb, text, timestamptz) to billing_app;
grant execute on function usage_post_cogs_nets(jsonb, jsonb, text, timestamptz) to billing_app;
