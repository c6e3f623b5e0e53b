-- Subscriptions (one Stripe subscription per team: a plan version, seats, add-ons), the Stripe webhook
-- inbox, Stripe prices of plan versions, and invoices with their lines. Each subscription is driven
-- by the `subscriptionLifecycle` workflow (`subscription:<id>`); each period's invoice by the
-- `closeBillingPeriod` child workflow (`period:<subscriptionId>:<periodStart>`).

-- Stripe products and prices per plan version component ('base', 'seat', 'add_on:<code>'), created
-- once by an activity with keys derived from (plan version, component). Immutable.
create table stripe_prices (
  plan_version_id   text not null references plan_versions (id),
  component         text not null check (component ~ '^(base|seat|add_on:[a-z0-9_-]+)$'),
  stripe_product_id text not null,
  stripe_price_id   text not null unique,
  created_at        timestamptz not null default now(),
  primary key (plan_version_id, component)
);

create table subscriptions (
  id                         text primary key check (id ~ '^sub_[A-Za-z0-9]{10,40}$'),
  team_id                    text not null references teams (id),
  plan_version_id            text not null references plan_versions (id),
  seats                      integer not null check (seats between 1 and 100000),
  add_ons                    jsonb not null default '[]',
  -- incomplete: checkout not completed; active; past_due: a payment failed and dunning runs;
  -- restricted: dunning ended without payment, entitlements restricted; canceled.
  status                     text not null check (status in ('incomplete', 'active', 'past_due', 'restricted', 'canceled')),
  cancel_at_period_end       boolean not null default false,
  current_period_start       timestamptz,
  current_period_end         timestamptz,
  stripe_checkout_session_id text unique,
  stripe_checkout_url        text,
  stripe_subscription_id     text unique,
  -- Stripe subscription item per component ('base', 'seat', 'add_on:<code>'), as Stripe reported it.
  stripe_items               jsonb not null default '{}',
  -- The checkout request that created it: (team, key) is unique; the payload must match on replay.
  idempotency_key            text not null,
  request_hash               bytea not null,
  created_at                 timestamptz not null default now(),
  updated_at                 timestamptz not null default now(),
  unique (team_id, idempotency_key),
  check (current_period_end is null or current_period_end > current_period_start)
);
-- At most one subscription per team is live at a time.
create unique index subscriptions_one_live_per_team on subscriptions (team_id)
  where status in ('active', 'past_due', 'restricted');
create index subscriptions_by_team on subscriptions (team_id, created_at desc);

-- Every change to a subscription, append-only: seats, add-ons, plan, cancellation, status. Period
-- close reads seat changes from here to prorate by seconds, exactly as Stripe does.
create table subscription_changes (
  id              bigint generated always as identity primary key,
  subscription_id text not null references subscriptions (id),
  kind            text not null check (kind in ('activated', 'seats', 'add_ons', 'plan', 'cancel', 'status', 'period')),
  effective_at    timestamptz not null,
  detail          jsonb not null,
  -- (subscription, request) is unique: a resent signal or a retried activity records once.
  request_id      text not null,
  created_at      timestamptz not null default now(),
  unique (subscription_id, request_id)
);
create index subscription_changes_by_time on subscription_changes (subscription_id, effective_at);

-- The webhook inbox: every verified Stripe event, stored once by id before anything acts on it.
create table stripe_events (
  id             text primary key,
  type           text not null,
  api_version    text,
  livemode       boolean not null,
  created        timestamptz not null,
  payload        jsonb not null,
  received_at    timestamptz not null default now(),
  -- Which workflow the event was signalled to, and when; null until signalled (a redelivery retries).
  routed_to      text,
  routed_at      timestamptz
);
create index stripe_events_unrouted on stripe_events (received_at) where routed_at is null;

-- Internal invoices: one per subscription period, mapped to one Stripe invoice whose total must match.
create table invoices (
  id                 text primary key,
  team_id            text not null references teams (id),
  subscription_id    text not null references subscriptions (id),
  period_start       timestamptz not null,
  period_end         timestamptz not null,
  currency           text not null,
  -- draft: rated, not yet on Stripe; issued: items on the Stripe invoice; awaiting_payment: totals
  -- reconciled; paid; past_due (dunning); uncollectible; mismatch: Stripe's total differs (loud).
  status             text not null check (status in ('draft', 'issued', 'awaiting_payment', 'paid', 'past_due', 'uncollectible', 'mismatch', 'void')),
  total_minor        bigint not null,
  total_cents        bigint not null,
  stripe_invoice_id  text unique,
  stripe_total_cents bigint,
  ledger_transaction_id uuid,
  workflow_id        text not null,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  paid_at            timestamptz,
  unique (subscription_id, period_start)
);
create index invoices_by_team on invoices (team_id, period_start desc);

-- Invoice lines: immutable once written. Each names what it charges for (meter and price key of
-- the plan version, or the fixed component), the exact amount and its rounding, and the Stripe
-- invoice item that carries it.
create table invoice_lines (
  id                     bigint generated always as identity primary key,
  invoice_id             text not null references invoices (id),
  line_no                integer not null,
  kind                   text not null check (kind in ('fixed', 'proration', 'usage', 'adjustment')),
  description            text not null,
  plan_version_id        text not null,
  price_key              text,
  meter                  text,
  dimensions             jsonb,
  quantity               numeric not null,
  amount_exact           numeric not null,
  amount_minor           bigint not null,
  amount_cents           bigint not null,
  -- Period the line covers (advance for fixed fees, arrears for usage and prorations).
  covers_start           timestamptz not null,
  covers_end             timestamptz not null,
  -- Usage lines: the usage_counters / usage_adjustments rows behind them.
  provenance             jsonb not null default '{}',
  -- Usage and adjustment lines go onto the Stripe invoice as items (Stripe prices the fixed fees and
  -- prorations itself from the subscription's items); the item id is recorded once pushed.
  push_to_stripe         boolean not null,
  stripe_invoice_item_id text,
  unique (invoice_id, line_no)
);

create trigger subscription_changes_append_only before update or delete on subscription_changes
  for each row execute function billing_reject_change();
create trigger stripe_prices_append_only before update or delete on stripe_prices
  for each row execute function billing_reject_change();

grant select, insert on stripe_prices, subscriptions, subscription_changes, stripe_events, invoices, invoice_lines to billing_app;
grant update (status, cancel_at_period_end, current_period_start, current_period_end, seats, add_ons, plan_version_id,
              stripe_checkout_session_id, stripe_checkout_url, stripe_subscription_id, stripe_items, updated_at) on subscriptions to billing_app;
grant update (routed_to, routed_at) on stripe_events to billing_app;
grant update (status, stripe_invoice_id, stripe_total_cents, ledger_transaction_id, updated_at, paid_at) on invoices to billing_app;
grant update (stripe_invoice_item_id) on invoice_lines to billing_app;

-- Idempotency of API writes that only signal or update a workflow (seat changes, cancellations, plan
-- changes): the key is claimed with the request's hash before the workflow is told, and the answer
-- stored after, so a replay gets the first answer and a reused key with another payload a 409.
create table api_idempotency (
  scope        text not null,
  key          text not null,
  request_hash bytea not null,
  status       text not null check (status in ('pending', 'done')),
  response     jsonb,
  created_at   timestamptz not null default now(),
  completed_at timestamptz,
  primary key (scope, key)
);
grant select, insert on api_idempotency to billing_app;
grant update (status, response, completed_at) on api_idempotency to billing_app;

-- Opening a subscription period adopts a calendar period that ingest created at the same instant
-- (src/usage/billing-periods.ts): it becomes explicit.
grant update (source) on billing_periods to billing_app;
