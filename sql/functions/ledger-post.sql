-- The ledger's posting path (tables: sql/00002_ledger.sql): ledger_post() and
-- ledger_record_rejection(), the only ways the application role writes the ledger.
-- after: 00002

-- The posting path: one call, one round trip, for one or many ledger transactions.
--
-- p_accounts:     [{code, kind, currency, owner_type, owner_id, shards, min_balance_minor, max_balance_minor}]
-- p_transactions: [{idx, id, scope, key, hash (hex sha256), code, effective_at, reverses_id, metadata,
--                   workflow_id, run_id, activity, actor, legs: [{account (code), shard, side, amount}]}]
--                  where idx is the position in the array.
-- Returns one row per entry of every requested transaction: new ones as written, replays as stored.
--
-- Every join below probes a large table with a handful of rows from the call; the planner cannot
-- see that (it assumes 100 rows per jsonb_to_recordset), so hash/merge joins and sequential scans
-- are switched off for this function, and its plans are made once per session.
create or replace function ledger_post(p_accounts jsonb, p_transactions jsonb)
returns table (
  tx_index int, transaction_id uuid, replayed boolean, leg_index smallint, account_code text, shard smallint,
  side ledger_side, amount_minor bigint, balance_before_minor bigint, balance_after_minor bigint, account_version bigint
)
language plpgsql security definer
set search_path = pg_catalog, public, pg_temp
set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off
set plan_cache_mode = force_generic_plan
as $$
declare
  v record;
  v_is_new boolean[];  -- null: every request is new (the common case)
  v_replay_idx int[];
  v_replay_ids uuid[];
  v_conflict int;
begin
  -- 1. Unknown accounts, accounts that exist with another definition, and remembered rejections,
  -- in one read. A rejection no longer counts once the key is posted (a posting won the race).
  select
    accounts.missing,
    accounts.mismatched,
    (select jsonb_build_object('scope', r.scope, 'idempotencyKey', r.key, 'code', j.code, 'message', j.message,
                               'details', j.details, 'sameRequest', j.request_hash = decode(r.hash, 'hex'))
       from jsonb_to_recordset(p_transactions) r(scope text, key text, hash text)
       join ledger_rejections j on j.scope = r.scope and j.idempotency_key = r.key
      where not exists (select 1 from ledger_transactions t where t.scope = r.scope and t.idempotency_key = r.key)
      limit 1) as rejected
    into v
  from (
    select count(*) filter (where a.id is null) as missing,
           min(s.code) filter (where (a.kind, a.currency, a.owner_type, a.owner_id, a.shards, a.min_balance_minor, a.max_balance_minor)
                                     is distinct from (s.kind, s.currency, s.owner_type, s.owner_id, s.shards, s.min_balance_minor, s.max_balance_minor)
                                 and a.id is not null) as mismatched
    from jsonb_to_recordset(p_accounts) s(code text, kind text, currency text, owner_type text, owner_id text,
                                          shards smallint, min_balance_minor bigint, max_balance_minor bigint)
    left join ledger_accounts a on a.code = s.code
  ) accounts;

  if v.missing > 0 then
    -- Accounts open on first use, in code order so that concurrent first uses cannot deadlock.
    insert into ledger_accounts (code, kind, currency, owner_type, owner_id, shards, min_balance_minor, max_balance_minor)
    select s.code, s.kind, s.currency, s.owner_type, s.owner_id, s.shards, s.min_balance_minor, s.max_balance_minor
    from jsonb_to_recordset(p_accounts) s(code text, kind text, currency text, owner_type text, owner_id text,
                                          shards smallint, min_balance_minor bigint, max_balance_minor bigint)
    order by s.code
    on conflict (code) do nothing;
    -- Someone else may have opened one of them first, with another definition.
    select s.code into v.mismatched
    from jsonb_to_recordset(p_accounts) s(code text, kind text, currency text, owner_type text, owner_id text,
                                          shards smallint, min_balance_minor bigint, max_balance_minor bigint)
    join ledger_accounts a on a.code = s.code
    where (a.kind, a.currency, a.owner_type, a.owner_id, a.shards, a.min_balance_minor, a.max_balance_minor)
          is distinct from (s.kind, s.currency, s.owner_type, s.owner_id, s.shards, s.min_balance_minor, s.max_balance_minor)
    limit 1;
  end if;
  if v.mismatched is not null then
    raise exception using
      errcode = 'LG004',
      message = format('Account %s already exists with a different definition', v.mismatched),
      detail = json_build_object('accountCode', v.mismatched)::text;
  end if;
  if v.rejected is not null then
    raise exception using
      errcode = case when (v.rejected ->> 'sameRequest')::boolean then 'LG005' else 'LG001' end,
      message = case when (v.rejected ->> 'sameRequest')::boolean then v.rejected ->> 'message'
                     else format('Idempotency key %s/%s was already used with a different payload',
                                 v.rejected ->> 'scope', v.rejected ->> 'idempotencyKey') end,
      detail = (v.rejected - 'sameRequest')::text;
  end if;

  -- 2. Transaction headers, in key order so that batches sharing keys cannot deadlock. A key taken
  -- before (or by a concurrent call that has since committed) inserts nothing.
  with inserted as (
    insert into ledger_transactions (id, scope, idempotency_key, request_hash, code, effective_at, reverses_id, metadata,
                                     workflow_id, run_id, activity, actor)
    select r.id, r.scope, r.key, decode(r.hash, 'hex'), r.code, r.effective_at, r.reverses_id, coalesce(r.metadata, '{}'),
           r.workflow_id, r.run_id, r.activity, r.actor
    from jsonb_to_recordset(p_transactions) r(id uuid, scope text, key text, hash text, code text, effective_at timestamptz,
                                              reverses_id uuid, metadata jsonb, workflow_id text, run_id text,
                                              activity text, actor text)
    order by r.scope, r.key
    on conflict (scope, idempotency_key) do nothing
    returning 1
  )
  select count(*) as posted into v from inserted;

  if v.posted < jsonb_array_length(p_transactions) then
    -- Some keys were taken: the stored row is a replay when its request hash matches, else a conflict.
    select array_agg(t.id = r.id order by r.idx),
           coalesce(array_agg(r.idx) filter (where t.id <> r.id), '{}'),
           coalesce(array_agg(t.id) filter (where t.id <> r.id), '{}'),
           min(r.idx) filter (where t.id <> r.id and t.request_hash <> decode(r.hash, 'hex'))
      into v_is_new, v_replay_idx, v_replay_ids, v_conflict
    from jsonb_to_recordset(p_transactions) r(idx int, id uuid, scope text, key text, hash text)
    join ledger_transactions t on t.scope = r.scope and t.idempotency_key = r.key;
    if v_conflict is not null then
      raise exception using
        errcode = 'LG001',
        message = format('Idempotency key %s/%s was already used with a different payload',
                         p_transactions -> v_conflict ->> 'scope', p_transactions -> v_conflict ->> 'key'),
        detail = json_build_object('scope', p_transactions -> v_conflict ->> 'scope',
                                   'idempotencyKey', p_transactions -> v_conflict ->> 'key')::text;
    end if;
  end if;

  -- 3. Entries of the new transactions. Every balance row they touch is locked first, in one
  -- global order (the legs are sorted, and each locks its row as it is read), so that no two calls,
  -- batches included, can wait on each other in a cycle. Rows of sharded (hot) accounts come last in
  -- that order: a call waiting for a busy wallet then holds no hot row meanwhile. Each leg's balance
  -- before/after and version follow from its locked row plus the legs before it in this call; the
  -- entry trigger re-checks all of it and moves the balance rows. A leg naming an unknown account
  -- or shard yields nulls, which the entries' NOT NULL columns refuse.
  return query
  with legs as (
    select r.idx as tx, (l.n - 1)::smallint as leg, r.id as transaction_id, r.effective_at,
           a.id as account_id, a.code, l.shard, l.side, l.amount,
           case when l.side = a.normal_side then l.amount else -l.amount end as delta
    from jsonb_to_recordset(p_transactions) r(idx int, id uuid, effective_at timestamptz, legs jsonb)
    cross join lateral rows from (jsonb_to_recordset(r.legs) as (account text, shard smallint, side ledger_side, amount bigint))
               with ordinality as l(account, shard, side, amount, n)
    left join ledger_accounts a on a.code = l.account
    where v_is_new is null or v_is_new[r.idx + 1]
    order by a.shards > 1, a.id, l.shard
  ), locked as (
    select legs.*, b.balance_minor, b.version
    from legs
    left join lateral (
      select b.balance_minor, b.version from ledger_balances b
      where b.account_id = legs.account_id and b.shard = legs.shard
      for update
    ) b on true
  ), computed as (
    select locked.*,
           locked.balance_minor + (sum(locked.delta) over w)::bigint - locked.delta as before_minor,
           locked.balance_minor + (sum(locked.delta) over w)::bigint as after_minor,
           locked.version + row_number() over w as next_version
    from locked
    window w as (partition by locked.account_id, locked.shard order by locked.tx, locked.leg)
  ), written as (
    insert into ledger_entries (transaction_id, leg_index, account_id, shard, side, amount_minor,
                                balance_before_minor, balance_after_minor, account_version, effective_at)
    select c.transaction_id, c.leg, c.account_id, c.shard, c.side, c.amount, c.before_minor, c.after_minor, c.next_version, c.effective_at
    from computed c
    order by c.tx, c.leg
  )
  select c.tx, c.transaction_id, false, c.leg, c.code, c.shard, c.side, c.amount, c.before_minor, c.after_minor, c.next_version
  from computed c;

  -- 4. Replays answer with what was stored.
  if cardinality(v_replay_idx) > 0 then
    return query
    select x.idx, e.transaction_id, true, e.leg_index, a.code, e.shard, e.side, e.amount_minor,
           e.balance_before_minor, e.balance_after_minor, e.account_version
    from unnest(v_replay_idx, v_replay_ids) x(idx, id)
    join ledger_entries e on e.transaction_id = x.id
    join ledger_accounts a on a.id = e.account_id;
  end if;
end
$$;

-- Remembers a business rejection after the posting rolled back, unless the key has meanwhile been
-- posted (the posting wins) or rejected. Returns whether this call stored it.
create or replace function ledger_record_rejection(p_scope text, p_key text, p_hash bytea, p_code text, p_message text, p_details jsonb)
returns boolean
language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
declare
  v_stored int;
begin
  if p_code not in ('insufficient_funds', 'limit_exceeded') then
    raise exception using errcode = 'LG006', message = format('%s is not a remembered ledger rejection', p_code);
  end if;
  insert into ledger_rejections (scope, idempotency_key, request_hash, code, message, details)
  select p_scope, p_key, p_hash, p_code, p_message, coalesce(p_details, '{}')
  where not exists (select 1 from ledger_transactions t where t.scope = p_scope and t.idempotency_key = p_key)
  on conflict (scope, idempotency_key) do nothing;
  get diagnostics v_stored = row_count;
  return v_stored > 0;
end
$$;

revoke all on function ledger_post(jsonb, jsonb) from public;
revoke all on function ledger_record_rejection(text, text, bytea, text, text, jsonb) from public;
grant execute on function ledger_post(jsonb, jsonb) to billing_app;
grant execute on function ledger_record_rejection(text, text, bytea, text, text, jsonb) to billing_app;
