-- Bedside schema, part 3: outgoing messages in dev, and staff invitations.

-- Dev outbox: with no SMTP_URL (or no SMS provider) messages land here instead of being
-- sent, and a dev-only page shows them. Holds contact data: workspace-scoped under RLS.
create table dev_outbox (
    dev_outbox_id bigint generated always as identity primary key,
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    channel text not null,
    recipient text not null,
    subject text not null default '',
    body text not null,
    created_at timestamptz not null default now(),
    constraint dev_outbox_channel_check check (channel in ('email', 'sms'))
);
create index dev_outbox_workspace_time_idx on dev_outbox (workspace_id, created_at desc);
alter table dev_outbox enable row level security;
alter table dev_outbox force row level security;
create policy dev_outbox_isolation on dev_outbox
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

-- Staff invitations. An admin adds a colleague by email; the colleague chooses their own
-- password from the emailed link. Whether the address already has an account elsewhere
-- is told only to the mailbox's owner, never to the inviting admin (no enumeration).
create table staff_invitation (
    staff_invitation_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    email text not null,
    name text not null,
    role text not null,
    token_hash bytea not null,
    invited_by uuid not null,
    expires_at timestamptz not null,
    accepted_at timestamptz,
    created_at timestamptz not null default now(),
    constraint staff_invitation_token_hash_key unique (token_hash),
    constraint staff_invitation_email_lowercase check (email = lower(email)),
    constraint staff_invitation_role_check check (role in ('admin', 'clinician')),
    constraint staff_invitation_inviter_fkey foreign key (workspace_id, invited_by)
        references app_user (workspace_id, user_id)
);
create index staff_invitation_workspace_email_idx on staff_invitation (workspace_id, email);
alter table staff_invitation enable row level security;
alter table staff_invitation force row level security;
create policy staff_invitation_isolation on staff_invitation
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());

-- Accepting an invitation happens before sign-in, so the workspace is not known yet:
-- one door through RLS, for one exact token hash, returning only what acceptance needs.
create function staff_invitation_by_token_hash(p_token_hash bytea)
returns table (staff_invitation_id uuid, workspace_id uuid, email text, expires_at timestamptz,
               accepted_at timestamptz)
language sql stable security definer set search_path = public, pg_temp as $$
    select i.staff_invitation_id, i.workspace_id, i.email, i.expires_at, i.accepted_at
    from staff_invitation i
    where i.token_hash = p_token_hash
$$;
revoke all on function staff_invitation_by_token_hash(bytea) from public;
grant execute on function staff_invitation_by_token_hash(bytea) to bedside_app;

-- Whether any account uses an email, across workspaces (for the invitation flow, which
-- never tells the inviting admin the answer).
create function auth_email_is_taken(p_email text)
returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
    select exists (select 1 from app_user u where u.email = lower(p_email))
$$;
revoke all on function auth_email_is_taken(text) from public;
grant execute on function auth_email_is_taken(text) to bedside_app;

grant select, insert on dev_outbox to bedside_app;
grant select, insert, update on staff_invitation to bedside_app;
