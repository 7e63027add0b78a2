-- Bedside schema, part 4: the visit's control plane. A meeting belongs to one telehealth
-- appointment; its participants join from one-tap links (only hashes stored), wait, and
-- are admitted or rejected; every join and leave is logged with its source address; and
-- the audit trail becomes hash-chained per workspace.

alter table appointment add constraint appointment_workspace_key unique (workspace_id, appointment_id);

-- Whether waiting patients may watch (not publish) before admission. Off: a waiting
-- patient's transport is warm but nothing private flows either way.
alter table workspace add column waiting_room_preview boolean not null default false;

create table meeting (
    meeting_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    appointment_id uuid not null,
    clinician_id uuid not null,
    room_name text not null,
    status text not null default 'waiting',
    duration_minutes integer not null,
    scheduled_start timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    ended_at timestamptz,
    constraint meeting_appointment_key unique (appointment_id),
    constraint meeting_room_name_key unique (room_name),
    constraint meeting_workspace_key unique (workspace_id, meeting_id),
    constraint meeting_appointment_fkey foreign key (workspace_id, appointment_id)
        references appointment (workspace_id, appointment_id),
    constraint meeting_clinician_fkey foreign key (workspace_id, clinician_id)
        references app_user (workspace_id, user_id),
    constraint meeting_status_check check (status in ('waiting', 'ringing', 'in_call', 'ended')),
    constraint meeting_duration_check check (duration_minutes between 5 and 480)
);

-- Everyone in a visit. Staff participants name their user; the patient names the patient
-- record; caregivers and interpreters carry their own contact (PHI: never logged).
create table meeting_participant (
    participant_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    role text not null,
    user_id uuid,
    patient_id uuid,
    display_name text not null,
    email text,
    phone text,
    state text not null default 'invited',
    rsvp text,
    rejection_reason text,
    created_at timestamptz not null default now(),
    waiting_since timestamptz,
    admitted_at timestamptz,
    joined_at timestamptz,
    left_at timestamptz,
    rejected_at timestamptz,
    -- Address of the participant's last token request: the access log's join rows copy
    -- it (LiveKit's webhooks carry no address). Stored, never logged.
    last_source inet,
    constraint meeting_participant_meeting_fkey foreign key (workspace_id, meeting_id)
        references meeting (workspace_id, meeting_id) on delete cascade,
    constraint meeting_participant_user_fkey foreign key (workspace_id, user_id)
        references app_user (workspace_id, user_id),
    constraint meeting_participant_patient_fkey foreign key (workspace_id, patient_id)
        references patient (workspace_id, patient_id),
    constraint meeting_participant_role_check
        check (role in ('clinician', 'patient', 'caregiver', 'interpreter')),
    constraint meeting_participant_state_check
        check (state in ('invited', 'waiting', 'admitted', 'in_call', 'left', 'rejected')),
    constraint meeting_participant_rsvp_check check (rsvp in ('accepted', 'declined')),
    constraint meeting_participant_staff_check check ((role = 'clinician') = (user_id is not null))
);
create index meeting_participant_meeting_idx on meeting_participant (meeting_id);
create unique index meeting_participant_one_user_idx on meeting_participant (meeting_id, user_id)
    where user_id is not null;

-- One-tap links: 256 random bits in the link, only their SHA-256 here.
create table meeting_link (
    meeting_link_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    participant_id uuid not null references meeting_participant (participant_id) on delete cascade,
    token_hash bytea not null,
    expires_at timestamptz not null,
    revoked_at timestamptz,
    last_redeemed_at timestamptz,
    created_at timestamptz not null default now(),
    constraint meeting_link_token_hash_key unique (token_hash),
    constraint meeting_link_meeting_fkey foreign key (workspace_id, meeting_id)
        references meeting (workspace_id, meeting_id) on delete cascade
);

-- A redeemed link: the browser's visit session (HttpOnly cookie; only its hash here).
create table visit_session (
    visit_session_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    participant_id uuid not null references meeting_participant (participant_id) on delete cascade,
    token_hash bytea not null,
    expires_at timestamptz not null,
    replaced_at timestamptz,
    created_at timestamptz not null default now(),
    constraint visit_session_token_hash_key unique (token_hash)
);

create table consent_receipt (
    consent_receipt_id bigint generated always as identity primary key,
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    participant_id uuid not null references meeting_participant (participant_id) on delete cascade,
    consent boolean not null,
    text_version text not null,
    recorded_at timestamptz not null default now()
);
create index consent_receipt_meeting_idx on consent_receipt (meeting_id, participant_id, recorded_at);

-- Every join and leave of a visit's room. The source address is stored for the audit,
-- never logged.
create table livekit_access_log (
    livekit_access_log_id bigint generated always as identity primary key,
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    participant_id uuid not null,
    role text not null,
    event text not null,
    source_addr inet,
    occurred_at timestamptz not null default now(),
    constraint livekit_access_log_event_check check (event in ('join', 'leave'))
);
create index livekit_access_log_meeting_idx on livekit_access_log (meeting_id, occurred_at);

-- Webhook event ids already applied: a replayed delivery is refused (shared by every
-- node; ids only).
create table livekit_webhook_event (
    event_id text primary key,
    received_at timestamptz not null default now()
);
grant select, insert, delete on livekit_webhook_event to bedside_app;

create trigger meeting_updated_at before update on meeting
    for each row execute function set_updated_at();

do $$
declare
    t text;
begin
    foreach t in array array['meeting', 'meeting_participant', 'meeting_link', 'visit_session',
                             'consent_receipt', 'livekit_access_log']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (workspace_id = current_workspace_id())
                        with check (workspace_id = current_workspace_id())', t || '_isolation', t);
    end loop;
end
$$;

grant select, insert, update on meeting to bedside_app;
grant select, insert, update on meeting_participant to bedside_app;
grant select, insert, update on meeting_link to bedside_app;
grant select, insert, update on visit_session to bedside_app;
grant select, insert on consent_receipt to bedside_app;
grant select, insert on livekit_access_log to bedside_app;

-- Links and visit sessions are presented before the workspace is known: one door each
-- through RLS, for one exact hash.
create function meeting_link_by_token_hash(p_token_hash bytea)
returns table (meeting_link_id uuid, workspace_id uuid, meeting_id uuid, participant_id uuid,
               expires_at timestamptz, revoked_at timestamptz)
language sql stable security definer set search_path = public, pg_temp as $$
    select l.meeting_link_id, l.workspace_id, l.meeting_id, l.participant_id, l.expires_at, l.revoked_at
    from meeting_link l where l.token_hash = p_token_hash
$$;
create function visit_session_by_token_hash(p_token_hash bytea)
returns table (visit_session_id uuid, workspace_id uuid, meeting_id uuid, participant_id uuid,
               expires_at timestamptz, replaced_at timestamptz)
language sql stable security definer set search_path = public, pg_temp as $$
    select s.visit_session_id, s.workspace_id, s.meeting_id, s.participant_id, s.expires_at, s.replaced_at
    from visit_session s where s.token_hash = p_token_hash
$$;
-- Webhooks name a room, not a workspace: the room's meeting, for the receiver.
create function meeting_by_room_name(p_room_name text)
returns table (meeting_id uuid, workspace_id uuid)
language sql stable security definer set search_path = public, pg_temp as $$
    select m.meeting_id, m.workspace_id from meeting m where m.room_name = p_room_name
$$;
revoke all on function meeting_link_by_token_hash(bytea) from public;
revoke all on function visit_session_by_token_hash(bytea) from public;
revoke all on function meeting_by_room_name(text) from public;
grant execute on function meeting_link_by_token_hash(bytea) to bedside_app;
grant execute on function meeting_by_room_name(text) to bedside_app;
grant execute on function visit_session_by_token_hash(bytea) to bedside_app;

-- The audit trail, hash-chained per workspace: each row stores the previous row's hash
-- and SHA-256(previous hash || its own canonical text); the head table keeps the last
-- hash, so an edited, deleted or inserted row (even the last one) breaks the chain.
-- `server audit-verify <workspace>` recomputes it independently in Rust.
alter table audit_event add column prev_hash bytea;
alter table audit_event add column row_hash bytea;

create table audit_chain_head (
    workspace_id uuid primary key references workspace (workspace_id) on delete cascade,
    last_event_id bigint not null,
    last_hash bytea not null
);

-- The text a row's hash covers (also used by the verifier to read rows back).
create function audit_event_canonical(p_id bigint, p_workspace uuid, p_actor uuid, p_action text,
                                      p_subject_type text, p_subject uuid, p_detail jsonb,
                                      p_at timestamptz)
returns text language sql immutable as $$
    select concat_ws('|', p_id::text, p_workspace::text, coalesce(p_actor::text, ''), p_action,
                     p_subject_type, coalesce(p_subject::text, ''), p_detail::text,
                     to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;

create function audit_event_chain() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
    previous bytea;
    content bytea := convert_to(audit_event_canonical(new.audit_event_id, new.workspace_id,
        new.actor_user_id, new.action, new.subject_type, new.subject_id, new.detail,
        new.occurred_at), 'UTF8');
begin
    -- One statement moves the head and returns the hash it replaced; its row lock
    -- orders concurrent inserts of one workspace.
    with before as (
        select workspace_id, last_hash from audit_chain_head
        where workspace_id = new.workspace_id for update
    )
    update audit_chain_head h set last_hash = sha256(before.last_hash || content),
                                  last_event_id = new.audit_event_id
    from before where h.workspace_id = before.workspace_id
    returning before.last_hash, h.last_hash into previous, new.row_hash;
    if not found then
        -- The workspace's first event (a concurrent first insert waits on the key).
        previous := '\x'::bytea;
        new.row_hash := sha256(previous || content);
        insert into audit_chain_head (workspace_id, last_event_id, last_hash)
            values (new.workspace_id, new.audit_event_id, new.row_hash);
    end if;
    new.prev_hash := previous;
    return new;
end
$$;

-- Chain the rows written before this migration, oldest first.
do $$
declare
    r record;
    previous bytea;
begin
    for r in select * from audit_event order by workspace_id, audit_event_id loop
        select last_hash into previous from audit_chain_head where workspace_id = r.workspace_id;
        if previous is null then
            previous := '\x'::bytea;
            insert into audit_chain_head values (r.workspace_id, 0, previous);
        end if;
        -- The append-only trigger forbids updates; it is lifted for this backfill only.
        alter table audit_event disable trigger audit_event_append_only;
        update audit_event set prev_hash = previous,
            row_hash = sha256(previous || convert_to(audit_event_canonical(r.audit_event_id,
                r.workspace_id, r.actor_user_id, r.action, r.subject_type, r.subject_id, r.detail,
                r.occurred_at), 'UTF8'))
            where audit_event_id = r.audit_event_id
            returning row_hash into previous;
        alter table audit_event enable trigger audit_event_append_only;
        update audit_chain_head set last_hash = previous, last_event_id = r.audit_event_id
            where workspace_id = r.workspace_id;
    end loop;
end
$$;

create trigger audit_event_chained before insert on audit_event
    for each row execute function audit_event_chain();
