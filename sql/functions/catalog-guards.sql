-- Guards of the catalog tables (sql/00003_catalog.sql): plan versions numbered without gaps and
-- immutable, team plan assignments append-only.
-- after: 00000

-- Versions are numbered 1, 2, 3… per plan without gaps.
create or replace function plan_versions_next_only() returns trigger language plpgsql as $$
begin
  if new.version <> (select coalesce(max(version), 0) + 1 from plan_versions where plan_code = new.plan_code) then
    raise exception 'plan % version % is not the next version', new.plan_code, new.version
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;

create or replace function plan_versions_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'plan versions are immutable: publish a new version instead (% rejected)', tg_op
    using errcode = 'insufficient_privilege';
end
$$;

create or replace function team_plan_assignments_append_only() returns trigger language plpgsql as $$
begin
  if tg_op <> 'UPDATE' then
    raise exception 'team plan assignments are append-only (% rejected)', tg_op using errcode = 'insufficient_privilege';
  end if;
  if old.effective_to is not null
     or (new.team_id, new.plan_version_id, new.effective_from, new.source, new.source_ref, new.created_by, new.created_at)
        is distinct from (old.team_id, old.plan_version_id, old.effective_from, old.source, old.source_ref, old.created_by, old.created_at) then
    raise exception 'a team plan assignment may only be closed, once (set effective_to)' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
