//! `server`: runs Bedside. Configuration comes from `configuration/base.toml` and the
//! environment (see README). `server sfu` runs only the embedded SFU and its `/rtc`
//! signaling, for a dedicated media host (no database needed). `server audit-verify
//! <workspace-id>` recomputes a workspace's hash-chained audit trail and says whether
//! it is intact (exit status 0) or where it breaks (exit status 1).

use server::config::Settings;
use server::startup::Application;

/// mimalloc instead of glibc's allocator. str0m allocates per packet (a buffer for each
/// SRTP-protected packet, an `Arc<[u8]>` for each received one): with glibc's
/// per-thread arenas that was a tenth of an SFU shard's time under load (`malloc`,
/// `_int_malloc`, `unlink_chunk`, `malloc_consolidate`, and `mprotect` as arenas grew
/// and shrank; docs/sfu.md "The engine's ceiling").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The general runtime. On a dedicated media host (`server sfu`) its threads (workers
/// and blocking pool) yield to the SFU's shards, which the main thread starts at the
/// process's own priority (`server::sfu::priority`).
fn main() -> anyhow::Result<()> {
    let media_host = std::env::args().nth(1).as_deref() == Some("sfu");
    let nice = server::sfu::priority::general_nice(media_host)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(move || server::sfu::priority::lower_this_thread(nice))
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    server::telemetry::init("info,sqlx=warn", std::io::stdout);
    let settings = Settings::load()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sfu") => return server::startup::run_sfu_only(settings).await,
        Some("audit-verify") => return audit_verify(&settings, args.get(1)).await,
        _ => {}
    }
    let application = Application::build(settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}

async fn audit_verify(settings: &Settings, workspace: Option<&String>) -> anyhow::Result<()> {
    use anyhow::Context;
    let workspace: uuid::Uuid = workspace
        .context("usage: server audit-verify <workspace-id>")?
        .parse()
        .context("the workspace id is not a UUID")?;
    let owner = sqlx::PgPool::connect_with(settings.database.owner_options()?)
        .await
        .context("connecting to PostgreSQL as the owner (DATABASE_URL)")?;
    match server::audit::verify_chain(&owner, workspace).await? {
        server::audit::ChainCheck::Intact { rows } => {
            println!("audit chain of workspace {workspace}: intact ({rows} rows)");
            Ok(())
        }
        server::audit::ChainCheck::Broken { at_event_id } => {
            match at_event_id {
                Some(id) => println!("audit chain of workspace {workspace}: BROKEN at event {id}"),
                None => println!(
                    "audit chain of workspace {workspace}: BROKEN (rows missing at the end)"
                ),
            }
            std::process::exit(1)
        }
    }
}
