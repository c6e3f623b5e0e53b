-- Platform: roles, apps and their signing secrets, teams, which apps may act for which teams,
-- Stripe customers, and the operator audit log.

-- The application role. api and worker connect as (a member of) billing_app and get only the
-- privileges granted below; the owner role that runs migrations owns every table.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'billing_app') then
    create role billing_app nologin;
  end if;
exception when duplicate_object or unique_violation then
  null; -- another migrator on the same cluster created it first
end
$$;

grant usage on schema public to billing_app;

create table apps (
  id           text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$'),
  name         text not null check (length(name) between 1 and 200),
  request_hash bytea not null,
  created_at   timestamptz not null default now()
);

-- HMAC secrets, encrypted at rest with SECRETS_KEY. At most two are active per app (rotation).
create table app_secrets (
  id          uuid primary key default gen_random_uuid(),
  app_id      text not null references apps (id),
  ciphertext  bytea not null,
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz
);
create index app_secrets_active on app_secrets (app_id, created_at desc) where revoked_at is null;

create table teams (
  id                text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$'),
  name              text not null check (length(name) between 1 and 200),
  kind              text not null check (kind in ('personal', 'shared')),
  external_ref      text unique check (length(external_ref) between 1 and 200),
  currency          text not null check (currency ~ '^[A-Z]{3}$'),
  -- What happens to usage that arrives for a period already invoiced: an adjustment line on the next
  -- invoice (with the events' provenance), or a rejection of the event.
  late_usage_policy text not null default 'adjust' check (late_usage_policy in ('adjust', 'reject')),
  request_hash      bytea not null,
  created_at        timestamptz not null default now()
);

-- An app may only report usage for, and read, teams connected to it.
create table team_apps (
  team_id    text not null references teams (id),
  app_id     text not null references apps (id),
  created_at timestamptz not null default now(),
  primary key (team_id, app_id)
);
create index team_apps_by_app on team_apps (app_id, team_id);

-- One Stripe customer per team, created by the provisionTeam workflow.
create table billing_customers (
  team_id            text primary key references teams (id),
  stripe_customer_id text not null unique,
  idempotency_key    text not null,
  created_at         timestamptz not null default now()
);

create table audit_log (
  id      bigint generated always as identity primary key,
  at      timestamptz not null default now(),
  actor   text not null,
  action  text not null,
  subject text not null,
  details jsonb not null default '{}'
);

grant select, insert on apps, app_secrets, teams, team_apps, billing_customers, audit_log to billing_app;
-- Rotation revokes the oldest secret; nothing else about a secret ever changes.
grant update (revoked_at) on app_secrets to billing_app;
grant select on schema_migrations to billing_app;
