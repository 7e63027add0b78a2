//! `server`: runs Bedside. Configuration comes from `configuration/base.toml` and the
//! environment (see README). `server sfu` runs only the embedded SFU and its `/rtc`
//! signaling, for a dedicated media host (no database needed).

use server::config::Settings;
use server::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init("info,sqlx=warn", std::io::stdout);
    let settings = Settings::load()?;
    if std::env::args().nth(1).as_deref() == Some("sfu") {
        return server::startup::run_sfu_only(settings).await;
    }
    let application = Application::build(settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}
