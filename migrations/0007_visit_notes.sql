-- Bedside schema, part 7: the visit's SOAP note. A draft saved while the clinician
-- types (one row per meeting, every save overwrites it), filed on the patient's chart
-- when the visit ends. PHI: never logged, workspace-scoped under RLS.

create table visit_note (
    visit_note_id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references workspace (workspace_id) on delete cascade,
    meeting_id uuid not null,
    patient_id uuid not null,
    author_id uuid not null,
    subjective text not null default '',
    objective text not null default '',
    assessment text not null default '',
    plan text not null default '',
    updated_at timestamptz not null default now(),
    filed_at timestamptz,
    constraint visit_note_meeting_key unique (meeting_id),
    constraint visit_note_meeting_fkey foreign key (workspace_id, meeting_id)
        references meeting (workspace_id, meeting_id) on delete cascade,
    constraint visit_note_patient_fkey foreign key (workspace_id, patient_id)
        references patient (workspace_id, patient_id),
    constraint visit_note_author_fkey foreign key (workspace_id, author_id)
        references app_user (workspace_id, user_id),
    constraint visit_note_size_check check (
        char_length(subjective) <= 20000 and char_length(objective) <= 20000
        and char_length(assessment) <= 20000 and char_length(plan) <= 20000)
);
create index visit_note_patient_idx on visit_note (patient_id, filed_at);

alter table visit_note enable row level security;
alter table visit_note force row level security;
create policy visit_note_isolation on visit_note
    using (workspace_id = current_workspace_id())
    with check (workspace_id = current_workspace_id());
grant select, insert, update on visit_note to bedside_app;
