-- HIPAA automatic logoff: a session also ends after a period without requests, and the
-- API's bearer tokens are bound to the session (login) they were issued with, so signing
-- out or going idle ends both.
alter table user_session add column last_seen_at timestamptz not null default now();

drop function auth_session_by_token_hash(bytea);

-- The session of a cookie, if it is neither expired nor idle; marks it seen.
create function auth_session_by_token_hash(p_token_hash bytea, p_idle_secs integer)
returns table (user_id uuid, workspace_id uuid, user_session_id uuid)
language sql volatile security definer set search_path = public, pg_temp as $$
    update user_session s set last_seen_at = now()
    where s.token_hash = p_token_hash and s.expires_at > now()
      and s.last_seen_at > now() - make_interval(secs => p_idle_secs)
    returning s.user_id, s.workspace_id, s.user_session_id
$$;

-- The same for a bearer token's session id.
create function auth_session_by_id(p_session_id uuid, p_idle_secs integer)
returns table (user_id uuid, workspace_id uuid, user_session_id uuid)
language sql volatile security definer set search_path = public, pg_temp as $$
    update user_session s set last_seen_at = now()
    where s.user_session_id = p_session_id and s.expires_at > now()
      and s.last_seen_at > now() - make_interval(secs => p_idle_secs)
    returning s.user_id, s.workspace_id, s.user_session_id
$$;

revoke all on function auth_session_by_token_hash(bytea, integer) from public;
revoke all on function auth_session_by_id(uuid, integer) from public;
grant execute on function auth_session_by_token_hash(bytea, integer) to bedside_app;
grant execute on function auth_session_by_id(uuid, integer) to bedside_app;
