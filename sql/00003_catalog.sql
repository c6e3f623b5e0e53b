-- Catalog: plans, their immutable published versions, and which plan version prices each team's
-- usage over time. A version is never changed once published (subscriptions pin it: grandfathering);
-- Postgres itself rejects any UPDATE, DELETE or TRUNCATE of one, whoever asks.

-- Team assignments must not overlap in time: an exclusion constraint on (team, time range) needs
-- btree_gist for the equality part. It is a trusted extension, so the database owner may create it.
create extension if not exists btree_gist;

create table plans (
  code       text primary key check (code ~ '^[a-z][a-z0-9_-]{1,47}$'),
  -- The display name is not part of pricing: renaming a plan does not make a new version.
  name       text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table plan_versions (
  -- '<plan code>-v<version>': readable in the Temporal UI, Stripe metadata and invoice lines.
  id           text primary key,
  plan_code    text not null references plans (code),
  version      integer not null check (version >= 1),
  currency     text not null check (currency ~ '^[A-Z]{3}$'),
  interval     text not null check (interval in ('month', 'year')),
  -- The whole version as validated and normalised by src/catalog/schema.ts (prices, seats, add-ons,
  -- features, limits); currency and interval are repeated as columns for queries.
  content      jsonb not null,
  -- sha256 of the canonical JSON of `content`: publishing identical content returns this version.
  content_hash bytea not null,
  published_at timestamptz not null default now(),
  published_by text not null,
  unique (plan_code, version),
  check (id = plan_code || '-v' || version),
  check (content ->> 'currency' = currency and content ->> 'interval' = interval)
);

create trigger plan_versions_next_only before insert on plan_versions
  for each row execute function plan_versions_next_only();

create trigger plan_versions_no_update_delete before update or delete on plan_versions
  for each row execute function plan_versions_immutable();
create trigger plan_versions_no_truncate before truncate on plan_versions
  for each statement execute function plan_versions_immutable();

-- Which plan version prices a team's usage, over time. Written by the subscription and contract
-- processes (source, source_ref say which); read by usage reports and period close. Rows are only
-- ever appended, and an open row (effective_to null) is closed once, when the next one starts.
create table team_plan_assignments (
  id              bigint generated always as identity primary key,
  team_id         text not null references teams (id),
  plan_version_id text not null references plan_versions (id),
  effective_from  timestamptz not null,
  effective_to    timestamptz,
  source          text not null check (source in ('subscription', 'contract', 'manual')),
  -- The subscription or contract id behind the assignment, when there is one.
  source_ref      text check (length(source_ref) between 1 and 200),
  created_by      text not null,
  created_at      timestamptz not null default now(),
  unique (team_id, effective_from),
  check (effective_to is null or effective_to > effective_from),
  exclude using gist (team_id with =, tstzrange(effective_from, effective_to, '[)') with &&)
);

create trigger team_plan_assignments_append_only before update or delete on team_plan_assignments
  for each row execute function team_plan_assignments_append_only();
create trigger team_plan_assignments_no_truncate before truncate on team_plan_assignments
  for each statement execute function team_plan_assignments_append_only();

-- Stripe products and prices for plan versions are created later by the subscription workflows;
-- they will map plan_versions.id to Stripe ids in a table of their own.

grant select, insert on plans, plan_versions, team_plan_assignments to billing_app;
grant update (name) on plans to billing_app;
grant update (effective_to) on team_plan_assignments to billing_app;
