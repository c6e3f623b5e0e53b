-- Test clocks: whole-tenant time simulation. A team created on a clock lives in the clock's time:
-- its workflows wait for the clock instead of timers, its usage timestamps are judged against the
-- clock's time, its periods end when the clock passes them. POST /admin/test-clocks/{id}/advance
-- moves frozen_time forward (never back) and returns when the team's processes have settled.
create table test_clocks (
  id              text primary key check (id ~ '^clock_[A-Za-z0-9]{8,40}$'),
  name            text check (length(name) between 1 and 200),
  frozen_time     timestamptz not null,
  -- ready: settled at frozen_time; advancing: an advance is under way (or was cut short: see the advance's answer).
  status          text not null default 'ready' check (status in ('ready', 'advancing')),
  idempotency_key text not null unique check (length(idempotency_key) between 1 and 255),
  request_hash    bytea not null,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);

alter table teams add column test_clock_id text references test_clocks (id);
create index teams_by_test_clock on teams (test_clock_id) where test_clock_id is not null;

grant select, insert on test_clocks to billing_app;
grant update (frozen_time, status, updated_at) on test_clocks to billing_app;
