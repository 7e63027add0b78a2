-- Bedside schema, part 1: workspaces, users, patients, appointments, sessions, audit.
--
-- Conventions: lowercase SQL, singular table names, `<table>_id` keys, timestamps in UTC
-- (`timestamptz`), `created_at`/`updated_at` maintained by one trigger, named constraints.
--
-- Isolation: every workspace-owned table has ROW LEVEL SECURITY enabled *and forced*,
-- with one policy comparing its `workspace_id` to the transaction's
-- `bedside.workspace_id` setting. Requests run as the `bedside_app` role (not superuser,
-- not BYPASSRLS), inside a transaction that sets that value first. With no value set, a
-- request sees nothing. Migrations run as the owner (a superuser or BYPASSRLS role).

-- The request role. Roles are cluster-wide, so create it only once.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'bedside_app') then
        begin
            create role bedside_app login nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
        exception when duplicate_object or unique_violation then
            null; -- another migration (a parallel test database) created it first
        end;
    end if;
end
$$;

create or replace function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end
$$;

-- The workspace the current transaction acts for (NULL when unset: matches nothing).
create or replace function current_workspace_id() returns uuid language sql stable as $$
    select nullif(current_setting('bedside.workspace_id', true), '')::uuid
$$;

-- A clinic. Time zone is an IANA name; appointment times are shown in it.
create table workspace (
    workspace_id uuid primary key default gen_random_uuid(),
    name text not null,
    time_zone text not null default 'UTC',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Staff who sign in. Emails are unique across Bedside (sign-in names the account, not
-- the workspace) and stored lowercased.
create table app_user (
    user_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    email text not null,
    name text not null,
    role text not null,
    password_hash text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint app_user_email_key unique (email),
    constraint app_user_email_lowercase check (email = lower(email)),
    constraint app_user_role_check check (role in ('admin', 'clinician')),
    constraint app_user_workspace_key unique (workspace_id, user_id)
);

-- Patients: PHI. Never logged.
create table patient (
    patient_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    name text not null,
    email text,
    phone text,
    date_of_birth date,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint patient_workspace_key unique (workspace_id, patient_id)
);
create index patient_workspace_name_idx on patient (workspace_id, lower(name));

-- Appointments. The composite foreign keys make it impossible to book a patient or a
-- clinician of another workspace, whatever the application does.
create table appointment (
    appointment_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    clinician_id uuid not null,
    patient_id uuid not null,
    starts_at timestamptz not null,
    duration_minutes integer not null,
    modality text not null,
    status text not null default 'scheduled',
    reason text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint appointment_clinician_fkey foreign key (workspace_id, clinician_id)
        references app_user (workspace_id, user_id),
    constraint appointment_patient_fkey foreign key (workspace_id, patient_id)
        references patient (workspace_id, patient_id),
    constraint appointment_duration_check check (duration_minutes between 5 and 480),
    constraint appointment_modality_check check (modality in ('telehealth', 'in_person')),
    constraint appointment_status_check
        check (status in ('scheduled', 'in_progress', 'completed', 'cancelled'))
);
create index appointment_workspace_start_idx on appointment (workspace_id, starts_at);
create index appointment_clinician_start_idx on appointment (clinician_id, starts_at);

-- Portal sessions. Only a SHA-256 of the cookie value is stored.
create table user_session (
    user_session_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    user_id uuid not null references app_user (user_id) on delete cascade,
    token_hash bytea not null,
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    constraint user_session_token_hash_key unique (token_hash)
);

-- Append-only audit trail: who did what to which record, IDs only (no PHI in `detail`).
create table audit_event (
    audit_event_id bigint generated always as identity primary key,
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    actor_user_id uuid,
    action text not null,
    subject_type text not null,
    subject_id uuid,
    detail jsonb not null default '{}',
    occurred_at timestamptz not null default now()
);
create index audit_event_workspace_time_idx on audit_event (workspace_id, occurred_at);

create or replace function audit_event_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_event is append-only';
end
$$;
create trigger audit_event_append_only before update or delete on audit_event
    for each row execute function audit_event_is_append_only();

create trigger workspace_updated_at before update on workspace
    for each row execute function set_updated_at();
create trigger app_user_updated_at before update on app_user
    for each row execute function set_updated_at();
create trigger patient_updated_at before update on patient
    for each row execute function set_updated_at();
create trigger appointment_updated_at before update on appointment
    for each row execute function set_updated_at();

-- Row-level security, forced so that even the tables' owner is subject to it unless it
-- bypasses RLS explicitly.
alter table workspace enable row level security;
alter table workspace force row level security;
create policy workspace_isolation on workspace
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

alter table app_user enable row level security;
alter table app_user force row level security;
create policy app_user_isolation on app_user
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

alter table patient enable row level security;
alter table patient force row level security;
create policy patient_isolation on patient
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

alter table appointment enable row level security;
alter table appointment force row level security;
create policy appointment_isolation on appointment
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

alter table user_session enable row level security;
alter table user_session force row level security;
create policy user_session_isolation on user_session
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

alter table audit_event enable row level security;
alter table audit_event force row level security;
create policy audit_event_isolation on audit_event
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

-- Sign-in has to find an account before it knows the workspace. These two functions are
-- the only doors through RLS: they run as the owner, return one row for one exact key,
-- and are executable by the request role only.
create or replace function auth_account_by_email(p_email text)
returns table (user_id uuid, workspace_id uuid, password_hash text)
language sql stable security definer set search_path = public, pg_temp as $$
    select u.user_id, u.workspace_id, u.password_hash
    from app_user u
    where u.email = lower(p_email)
$$;

create or replace function auth_session_by_token_hash(p_token_hash bytea)
returns table (user_id uuid, workspace_id uuid)
language sql stable security definer set search_path = public, pg_temp as $$
    select s.user_id, s.workspace_id
    from user_session s
    where s.token_hash = p_token_hash and s.expires_at > now()
$$;

revoke all on function auth_account_by_email(text) from public;
revoke all on function auth_session_by_token_hash(bytea) from public;
grant execute on function auth_account_by_email(text) to bedside_app;
grant execute on function auth_session_by_token_hash(bytea) to bedside_app;

-- What the request role may do. No DELETE on users or workspaces, no UPDATE or DELETE on
-- the audit trail.
grant usage on schema public to bedside_app;
grant select, update on workspace to bedside_app;
grant select, insert, update on app_user to bedside_app;
grant select, insert, update on patient to bedside_app;
grant select, insert, update, delete on appointment to bedside_app;
grant select, insert, delete on user_session to bedside_app;
grant select, insert on audit_event to bedside_app;
