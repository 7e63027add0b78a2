-- Bedside schema, part 9: audit rows of one workspace are chained strictly one after
-- another, in id order, however many connections write at once.
--
-- Two races in the trigger of part 4, both found by a test with eight concurrent
-- writers:
-- - The id came from the identity default, drawn before the trigger waited for the
--   workspace's chain head. Two events at the same moment could be chained in the
--   other order than their ids, and the chain, read in id order by
--   `server audit-verify`, looked broken although nothing was tampered with.
-- - A workspace's first two events at once both tried to create its chain head, and
--   the second failed with a duplicate key (a request lost to a 500).
-- The trigger now makes sure the head exists (a no-op when it does), takes its row lock
-- (held to the end of the transaction), and only then draws the row's id, so id order
-- is chain order. Rows already written are unchanged.

create or replace function audit_event_chain() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
    previous bytea;
    content bytea;
begin
    insert into audit_chain_head (workspace_id, last_event_id, last_hash)
        values (new.workspace_id, 0, '\x'::bytea)
        on conflict (workspace_id) do nothing;
    -- The head's row lock orders concurrent inserts of one workspace.
    select last_hash into previous from audit_chain_head
    where workspace_id = new.workspace_id for update;
    new.audit_event_id := nextval(pg_get_serial_sequence('audit_event', 'audit_event_id'));
    content := convert_to(audit_event_canonical(new.audit_event_id, new.workspace_id,
        new.actor_user_id, new.action, new.subject_type, new.subject_id, new.detail,
        new.occurred_at), 'UTF8');
    new.row_hash := sha256(previous || content);
    new.prev_hash := previous;
    update audit_chain_head set last_hash = new.row_hash, last_event_id = new.audit_event_id
    where workspace_id = new.workspace_id;
    return new;
end
$$;
