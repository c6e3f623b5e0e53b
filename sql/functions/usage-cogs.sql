-- The COGS ledger posting of counter cost changes, for ingest and period operations alike.
-- after: 00004

-- Posts the COGS accrual of a set of counter cost changes (in the order they happened) and returns its posting number, or null when every rounded difference nets to zero.
--
-- One ledger transaction per call, keyed cogs:<n> in scope usage-cogs: debit cogs:<provider>,
-- credit payable:<provider> (the other way round when a gauge correction lowered a cost), split into
-- cogs:<n>:1, :2, ... past LIMITS.ledgerLegsPerTransactionMax (512) legs. The legs go to the account
-- shard n % shards: a call spans many teams, so concurrent calls spread over the shards instead of
-- all waiting on every shard.
--
-- p_accounts: {"<provider>": [<cogs account>, <payable account>]} in ledger_post's account format,
-- built by the chart of accounts (src/ledger/accounts.ts), which stays the one place codes are made.
create or replace function usage_post_cogs(p_costs usage_ingest_cost[], p_accounts jsonb, p_actor text, p_at timestamptz)
returns bigint language plpgsql as $$
declare
  v_seq bigint;
  v_nets jsonb;
  v_missing text;
  v_transactions jsonb;
  v_accounts jsonb;
begin
  -- The changes of one counter chain (each starts where the one before it ended), so the sum of their
  -- rounded differences is round(last after) - round(first before): no need to pair them up.
  select jsonb_agg(jsonb_build_array(n.provider, n.minor::text, n.counters) order by n.provider)
    into v_nets
  from (
    select x.d ->> 'provider' as provider, sum(usage_cost_minor(x.c1) - usage_cost_minor(x.c0)) as minor,
           count(distinct x.counter_id) as counters
    from unnest(p_costs) x
    where x.d ? 'provider' and x.c0 <> x.c1
    group by x.d ->> 'provider'
  ) n
  where n.minor <> 0;
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
             'metadata', jsonb_build_object('appId', p_actor, 'counters', sum(l.counters) filter (where l.ord = 1)),
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

revoke execute on function usage_post_cogs(usage_ingest_cost[], jsonb, text, timestamptz) from public;
grant execute on function usage_post_cogs(usage_ingest_cost[], jsonb, text, timestamptz) to billing_app;
