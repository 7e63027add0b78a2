-- Bedside schema, part 6: the visit's chat. Quiet check-ins (lab values, dosing) between
-- the clinician and the patient's side, stored with the meeting, in order, readable
-- afterwards on the meeting's record. PHI: never logged, workspace-scoped under RLS.

create table meeting_message (
    meeting_message_id bigint generated always as identity primary key,
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    participant_id uuid not null references meeting_participant (participant_id) on delete cascade,
    body text not null,
    sent_at timestamptz not null default now(),
    constraint meeting_message_meeting_fkey foreign key (workspace_id, meeting_id)
        references meeting (workspace_id, meeting_id) on delete cascade,
    constraint meeting_message_body_check check (char_length(body) between 1 and 2000)
);
create index meeting_message_meeting_idx on meeting_message (meeting_id, meeting_message_id);

alter table meeting_message enable row level security;
alter table meeting_message force row level security;
create policy meeting_message_isolation on meeting_message
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());
grant select, insert on meeting_message to bedside_app;
