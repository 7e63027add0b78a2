//! `server`: runs Bedside. Configuration comes from `configuration/base.toml` and the
//! environment (see README).

use server::config::Settings;
use server::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init("info,sqlx=warn", std::io::stdout);
    let settings = Settings::load()?;
    let application = Application::build(settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}
