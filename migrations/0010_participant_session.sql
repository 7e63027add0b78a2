-- Bedside schema, part 10: which media session of a participant is the current one.
-- A reloaded page or a second device joins the room again under the same identity;
-- the media server replaces the old session, and its "left" may arrive before or after
-- the new session's "joined" (LiveKit delivers webhooks independently). Only the
-- current session's departure moves the participant out of the call.

alter table meeting_participant
    add column session_sid text,
    add constraint meeting_participant_session_sid_check check (length(session_sid) <= 128);
