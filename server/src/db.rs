//! PostgreSQL: database creation, migrations (as the owner), and the request pool (as the
//! unprivileged `bedside_app` role, every transaction scoped to one workspace).

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::config::DatabaseSettings;

/// The migrations in `../migrations`, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A transaction bound to one workspace: row-level security shows it nothing else.
pub type WorkspaceTx = Transaction<'static, Postgres>;

/// The request pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Creates the database if missing and runs migrations, both as the owner role.
    pub async fn prepare(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
        let owner = settings.owner_options()?;
        create_database_if_missing(&owner).await?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(owner)
            .await
            .context("connecting to PostgreSQL as the owner (DATABASE_URL)")?;
        MIGRATOR.run(&pool).await.context("running migrations")?;
        Ok(pool)
    }

    /// Opens the request pool and checks that its role cannot bypass row-level security.
    pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .connect_with(settings.app_options()?)
            .await
            .with_context(|| format!("connecting to PostgreSQL as role {}", settings.app_role))?;
        let (superuser, bypass): (bool, bool) = sqlx::query_as(
            "select rolsuper, rolbypassrls from pg_roles where rolname = current_user",
        )
        .fetch_one(&pool)
        .await
        .context("reading the request role's attributes")?;
        if superuser || bypass {
            bail!(
                "role {} is a superuser or has BYPASSRLS; refusing to serve requests with it",
                settings.app_role
            );
        }
        Ok(Self { pool })
    }

    /// Wraps an existing pool (tests).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The raw pool, for the two pre-authentication lookups only.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction that acts for `workspace_id` (and only it).
    ///
    /// `BEGIN` and the workspace setting travel in one round trip (a simple-query pair;
    /// the id is a formatted UUID, so nothing from a request is spliced into SQL).
    pub async fn begin_for(&self, workspace_id: Uuid) -> sqlx::Result<WorkspaceTx> {
        self.pool
            .begin_with(format!(
                "begin; select set_config('bedside.workspace_id', '{workspace_id}', true)"
            ))
            .await
    }

    /// Like [`Db::begin_for`], for a high-rate transaction whose commit need not wait for
    /// the WAL to reach disk (`synchronous_commit = off`, this transaction only). A
    /// crash can lose its last fraction of a second (at most three `wal_writer_delay`s,
    /// 600 ms by default), never corrupt anything. Used for issuing media tokens, whose
    /// audit rows are the only writes: a token minted just before a power loss may lack
    /// its row, which is acceptable for an event that grants no access to PHI by itself.
    pub async fn begin_fast_commit_for(&self, workspace_id: Uuid) -> sqlx::Result<WorkspaceTx> {
        self.pool
            .begin_with(format!(
                "begin; select set_config('bedside.workspace_id', '{workspace_id}', true), \
                 set_config('synchronous_commit', 'off', true)"
            ))
            .await
    }
}

/// Connects to the server's `postgres` database and creates ours if it is absent.
pub async fn create_database_if_missing(owner: &PgConnectOptions) -> anyhow::Result<()> {
    let name = owner.get_database().unwrap_or("postgres").to_owned();
    let mut conn = PgConnection::connect_with(&owner.clone().database("postgres"))
        .await
        .context("connecting to PostgreSQL (is it running? see README)")?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        conn.execute(format!(r#"create database "{quoted}""#).as_str())
            .await
            .context("creating the database")?;
    }
    conn.close().await.ok();
    Ok(())
}
