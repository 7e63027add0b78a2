# Shared by scripts/start and scripts/test: install what is missing, idempotently.
# Everything comes from crates.io, npm or Debian; nothing is downloaded from elsewhere.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# One cargo target dir outside the clone, shared by every build and kept between runs.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bedside/target}"
# The wasm bundle builds in a sibling dir so it can run in parallel (scripts/build-site).
export BEDSIDE_WASM_TARGET_DIR="${BEDSIDE_WASM_TARGET_DIR:-$CARGO_TARGET_DIR/wasm}"
# Build tools the scripts install (wasm-bindgen-cli, cargo-leptos on request) live here,
# outside the clone, like the target dir; scripts/measure-first-run points both elsewhere.
export BEDSIDE_TOOLS_DIR="${BEDSIDE_TOOLS_DIR:-$HOME/.cache/bedside/tools}"
command -v cargo >/dev/null || PATH="$HOME/.cargo/bin:$PATH"
export PATH="$BEDSIDE_TOOLS_DIR/bin:$ROOT/end2end/node_modules/.bin:$PATH"
CARGO_LEPTOS_VERSION=0.3.10

need_jq() { command -v jq >/dev/null || apt_install jq; }

say() { printf '\033[1;36m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else
    say "needs root for: $* (using sudo)"; sudo "$@"; fi
}

# Another apt (a machine's own updates, a second checkout's install) may hold dpkg's
# lock for a while: wait for it rather than fail.
apt_install() {
  local wait=(-o DPkg::Lock::Timeout=600)
  if [ ! -f /tmp/.bedside-apt-updated ]; then as_root apt-get "${wait[@]}" update -qq && touch /tmp/.bedside-apt-updated; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq "$@" >/dev/null
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
    say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown
  fi
}

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly. Its install builds
# in a throwaway dir of its own, so it can run beside a build of ours (cargo would block
# on a shared target dir's lock).
ensure_wasm_bindgen() {
  local wb
  wb="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3}' Cargo.lock)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$wb"; then
    say "installing wasm-bindgen-cli $wb (matches Cargo.lock; ~2 min, once)"
    env -u CARGO_TARGET_DIR cargo install -q --root "$BEDSIDE_TOOLS_DIR" wasm-bindgen-cli --version "$wb"
  fi
}

# Only for `cargo leptos watch` (the live-reload loop) and the check that the
# `[[workspace.metadata.leptos]]` settings still build with it; the scripts don't need it.
ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; 15-40 min on 2 cores)"
    env -u CARGO_TARGET_DIR cargo install --root "$BEDSIDE_TOOLS_DIR" cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
}

ensure_npm_packages() {
  if [ ! -x end2end/node_modules/.bin/playwright ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing npm packages (Playwright, binaryen's wasm-opt)"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error --prefer-offline)
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then say "installing Debian's chromium"; apt_install chromium; fi
  # The ICE-TCP test firewalls UDP inside its own network namespace.
  if ! command -v iptables >/dev/null && [ ! -x /usr/sbin/iptables ]; then
    say "installing Debian's iptables"; apt_install iptables
  fi
  # The TURN test relays a call through a coturn it starts itself.
  if ! command -v turnserver >/dev/null && [ ! -x /usr/bin/turnserver ]; then
    say "installing Debian's coturn"; apt_install coturn
  fi
}

# Makes a Redis answer at REDIS_URL (default 127.0.0.1:6379): the local server, else one
# started here (from Debian's redis-server, installed if missing), keeping nothing on disk.
ensure_redis() {
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  local hostport="${REDIS_URL#redis://}"; hostport="${hostport%%/*}"
  local host="${hostport%:*}" port="${hostport##*:}"
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return; fi
  command -v redis-server >/dev/null || { say "installing Redis from Debian"; apt_install redis-server; }
  say "starting Redis on $host:$port"; mkdir -p "$ROOT/target"
  redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
    --logfile "$ROOT/target/redis.log" >/dev/null
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return; sleep 0.1; done
  echo "Redis did not start on $host:$port" >&2; return 1
}

# Makes DATABASE_URL answer: the configured server, else the local one on 5432, else a
# private cluster under .data/pg started from the local PostgreSQL binaries.
ensure_database() {
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bedside}"
  if db_answers "$DATABASE_URL"; then return; fi
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$bin" ]; then say "installing PostgreSQL from Debian"; apt_install postgresql; bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; fi
  local data="$ROOT/.data/pg" port=5544 owner=postgres
  if [ "$(id -u)" = 0 ]; then owner=postgres; else owner="$(id -un)"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in .data/pg (port $port)"
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data"
    run_pg "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  # TLS like a real deployment (the TLS test connects with sslmode=require): a
  # self-signed certificate for this private cluster only.
  if [ ! -f "$data/server.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj /CN=127.0.0.1 -keyout "$data/server.key" -out "$data/server.crt" 2>/dev/null
    chmod 600 "$data/server.key"; [ "$(id -u)" = 0 ] && chown postgres "$data/server.key" "$data/server.crt"
  fi
  if ! db_answers "postgres://postgres@127.0.0.1:$port/postgres"; then
    say "starting the private PostgreSQL on 127.0.0.1:$port"
    run_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c ssl=on" -w start >/dev/null
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/bedside"
}

run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; else "$@"; fi; }

db_answers() {
  local url="$1"
  url="${url%/*}/postgres"
  psql "$url" -tAc 'select 1' >/dev/null 2>&1
}

# The URL of database $2 on the server of URL $1, through its Unix socket: inside a
# loopback-only network namespace the host's 127.0.0.1 is out of reach, the socket is not.
socket_url() {
  local url="$1" db="$2" port dir
  port="$(printf '%s' "$url" | sed -nE 's#.*:([0-9]+)/[^/]*$#\1#p')"
  port="${port:-5432}"
  for dir in /var/run/postgresql /tmp; do
    if [ -S "$dir/.s.PGSQL.$port" ]; then printf 'postgres://postgres@localhost/%s?host=%s&port=%s' "$db" "$dir" "$port"; return; fi
  done
  echo "no PostgreSQL socket for port $port" >&2; return 1
}

# Where the server finds the site scripts/build-site wrote (what cargo-leptos would set).
export_site_env() {
  local meta
  need_jq
  meta="$(cargo metadata --no-deps --format-version 1 --offline)"
  export LEPTOS_SITE_ROOT="$ROOT/$(jq -r '.metadata.leptos[0]["site-root"]' <<<"$meta")"
  export LEPTOS_SITE_PKG_DIR="$(jq -r '.metadata.leptos[0]["site-pkg-dir"]' <<<"$meta")"
}
