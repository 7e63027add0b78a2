-- A busy client no longer writes on every request: a session's `last_seen_at` is
-- refreshed only once it is older than a tenth of the idle timeout (at most 15 s), so
-- most authenticated requests are reads (no row lock, no WAL flush). The idle timeout
-- stays exact to that granularity (30 min idle: within 15 s).

create or replace function auth_session_by_token_hash(p_token_hash bytea, p_idle_secs integer)
returns table (user_id uuid, workspace_id uuid, user_session_id uuid)
language plpgsql volatile security definer set search_path = public, pg_temp as $$
begin
    update user_session s set last_seen_at = now()
    where s.token_hash = p_token_hash and s.expires_at > now()
      and s.last_seen_at > now() - make_interval(secs => p_idle_secs)
      and s.last_seen_at < now() - least(interval '15 seconds', make_interval(secs => p_idle_secs) / 10);
    return query
        select s.user_id, s.workspace_id, s.user_session_id from user_session s
        where s.token_hash = p_token_hash and s.expires_at > now()
          and s.last_seen_at > now() - make_interval(secs => p_idle_secs);
end
$$;

create or replace function auth_session_by_id(p_session_id uuid, p_idle_secs integer)
returns table (user_id uuid, workspace_id uuid, user_session_id uuid)
language plpgsql volatile security definer set search_path = public, pg_temp as $$
begin
    update user_session s set last_seen_at = now()
    where s.user_session_id = p_session_id and s.expires_at > now()
      and s.last_seen_at > now() - make_interval(secs => p_idle_secs)
      and s.last_seen_at < now() - least(interval '15 seconds', make_interval(secs => p_idle_secs) / 10);
    return query
        select s.user_id, s.workspace_id, s.user_session_id from user_session s
        where s.user_session_id = p_session_id and s.expires_at > now()
          and s.last_seen_at > now() - make_interval(secs => p_idle_secs);
end
$$;
