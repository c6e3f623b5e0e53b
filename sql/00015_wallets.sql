-- Wallets: prepaid credit per team and currency. The money itself lives in the ledger (accounts
-- wallet:<team>:<CUR> and promo:<team>:<CUR>, both with a floor of 0); these tables say which grant
-- the money came from, in what order it is spent, when it expires, and what is reserved by holds.
-- Invariant kept by src/wallets/*: Σ remaining_minor of a team's grants = wallet + promo balance
-- once due expiries have run. Every change to a wallet's money happens under its `wallets` row
-- lock (select … for update), so concurrent debits are serialised per wallet and never overdraw.

create table wallets (
  team_id                     text not null references teams (id),
  currency                    text not null references ledger_currencies (code),
  -- How usage is paid: arrears = invoiced after the period (today's behaviour); wallet = debited
  -- from prepaid credit as it happens; wallet_then_arrears = the wallet first, the rest invoiced.
  billing_mode                text not null default 'arrears' check (billing_mode in ('arrears', 'wallet', 'wallet_then_arrears')),
  -- How far a debit may go beyond the credit, posted to the team's receivable (never a negative
  -- wallet: the wallet account keeps its floor of 0). 0 = debits beyond the credit are refused.
  overdraft_limit_minor       bigint not null default 0 check (overdraft_limit_minor between 0 and 1000000000000000),
  -- What debits have put on the receivable under the overdraft and later grants have not yet paid back.
  overdraft_used_minor        bigint not null default 0 check (overdraft_used_minor between 0 and 1000000000000000),
  -- Below this available balance the wallet is "low" (events come with a later slice); null = never.
  low_balance_threshold_minor bigint check (low_balance_threshold_minor between 0 and 1000000000000000),
  -- A notice was raised for the current crossing (wallet.balance_low below the threshold,
  -- wallet.depleted at nothing available); cleared when the available balance is back above, so each
  -- crossing raises its event once (src/wallets/balance-notices.ts).
  low_balance_noticed         boolean not null default false,
  depleted_noticed            boolean not null default false,
  created_at                  timestamptz not null default now(),
  updated_at                  timestamptz not null default now(),
  primary key (team_id, currency)
);

-- One grant of credit. Bounds (src/shared/limits.ts) keep every sum of a wallet's grants inside a bigint.
create table credit_grants (
  id                   uuid primary key,
  team_id              text not null,
  currency             text not null,
  source               text not null check (source in ('purchase', 'promotion', 'plan_allowance', 'refund', 'manual')),
  -- Which ledger account holds the grant's money: promotion and plan allowance are promotional credit,
  -- the rest is the team's own (paid for or owed back to it).
  account              text not null check (account = case when source in ('promotion', 'plan_allowance') then 'promo' else 'wallet' end),
  amount_minor         bigint not null check (amount_minor between 1 and 1000000000000000),
  -- What of the amount went to settle the team's overdraft (on the receivable) rather than into the
  -- wallet: a purchase, refund or manual grant pays back what debits beyond the credit put on the
  -- receivable before it becomes spendable credit.
  overdraft_settled_minor bigint not null default 0 check (overdraft_settled_minor >= 0 and overdraft_settled_minor <= amount_minor),
  remaining_minor      bigint not null check (remaining_minor >= 0 and remaining_minor <= amount_minor - overdraft_settled_minor),
  -- Lower is spent first (see src/wallets/grant-consumption.ts).
  priority             integer not null check (priority between 0 and 10000),
  expires_at           timestamptz,
  -- Set once the unused remainder has moved out through the ledger (remaining_minor is then 0).
  expired_at           timestamptz,
  reason               text not null check (length(reason) between 1 and 500),
  actor                text not null,
  idempotency_key      text not null check (length(idempotency_key) between 1 and 255),
  request_hash         bytea not null,
  ledger_transaction_id uuid not null references ledger_transactions (id),
  created_at           timestamptz not null default now(),
  foreign key (team_id, currency) references wallets (team_id, currency),
  unique (team_id, idempotency_key),
  check (expired_at is null or remaining_minor = 0)
);
-- The grants a debit may still consume, in consumption order.
create index credit_grants_open on credit_grants (team_id, currency, priority, expires_at, created_at) where remaining_minor > 0;
-- The expiry sweep (expireDueGrants).
create index credit_grants_due on credit_grants (expires_at) where remaining_minor > 0 and expires_at is not null;

-- A reservation of available credit before long work: captured (debited, up to the amount) or
-- released. A hold past its expires_at counts as released without any write (lazy expiry): it no
-- longer reduces the available balance and can no longer be captured.
create table wallet_holds (
  id              uuid primary key,
  team_id         text not null,
  currency        text not null,
  app_id          text not null references apps (id),
  amount_minor    bigint not null check (amount_minor between 1 and 1000000000000000),
  status          text not null default 'open' check (status in ('open', 'captured', 'released', 'expired')),
  captured_minor  bigint check (captured_minor between 0 and amount_minor),
  expires_at      timestamptz not null,
  idempotency_key text not null check (length(idempotency_key) between 1 and 255),
  request_hash    bytea not null,
  created_at      timestamptz not null default now(),
  resolved_at     timestamptz,
  foreign key (team_id, currency) references wallets (team_id, currency),
  unique (team_id, idempotency_key),
  check ((status = 'captured') = (captured_minor is not null)),
  check ((status = 'open') = (resolved_at is null))
);
create index wallet_holds_open on wallet_holds (team_id, currency, expires_at) where status = 'open';

-- One debit of a wallet (usage, a hold's capture): remembered by its key so a retry returns the
-- same answer instead of charging again.
create table wallet_debits (
  team_id               text not null,
  currency              text not null,
  idempotency_key       text not null check (length(idempotency_key) between 1 and 255),
  request_hash          bytea not null,
  app_id                text not null references apps (id),
  amount_minor          bigint not null check (amount_minor between 1 and 1000000000000000),
  -- From grants, and beyond them on the receivable (overdraft); they add up to the amount.
  from_grants_minor     bigint not null check (from_grants_minor >= 0),
  overdraft_minor       bigint not null check (overdraft_minor >= 0),
  hold_id               uuid references wallet_holds (id),
  ledger_transaction_id uuid not null references ledger_transactions (id),
  created_at            timestamptz not null default now(),
  primary key (team_id, idempotency_key),
  foreign key (team_id, currency) references wallets (team_id, currency),
  check (from_grants_minor + overdraft_minor = amount_minor)
);

-- Which grants a ledger transaction moved, and by how much: the link from a debit or an expiry to
-- the grants behind it, so every grant's remaining_minor can be recomputed from its history.
create table credit_grant_movements (
  ledger_transaction_id uuid not null references ledger_transactions (id),
  grant_id              uuid not null references credit_grants (id),
  kind                  text not null check (kind in ('grant', 'debit', 'expiry')),
  -- Signed: + for what the grant put in the wallet, - for what a debit or an expiry took from it.
  amount_minor          bigint not null check (amount_minor <> 0),
  primary key (ledger_transaction_id, grant_id)
);
create index credit_grant_movements_by_grant on credit_grant_movements (grant_id);

-- What happened to a team that its app or operator should hear of (wallet.balance_low, wallet.depleted;
-- usage alerts later), readable through the API; tenant webhooks will deliver them. One row per cause:
-- (team, dedup_key) is unique, so a retried transaction never records an event twice.
create table team_events (
  id          bigint generated always as identity primary key,
  team_id     text not null references teams (id),
  type        text not null check (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  detail      jsonb not null,
  dedup_key   text not null check (length(dedup_key) between 1 and 300),
  occurred_at timestamptz not null,
  created_at  timestamptz not null default now(),
  unique (team_id, dedup_key)
);
create index team_events_by_team on team_events (team_id, id);

grant select, insert on wallets, credit_grants, wallet_holds, wallet_debits, credit_grant_movements, team_events to billing_app;
grant update (billing_mode, overdraft_limit_minor, overdraft_used_minor, low_balance_threshold_minor, low_balance_noticed, depleted_noticed, updated_at) on wallets to billing_app;
grant update (remaining_minor, expired_at) on credit_grants to billing_app;
grant update (status, captured_minor, resolved_at) on wallet_holds to billing_app;
