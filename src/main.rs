//! The `modelgov` binary: `serve` (the default), `migrate`, `demo`.

use std::process::ExitCode;

use modelgov::server::{self, config::Config};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: modelgov [serve | migrate | demo | help]

  serve     apply migrations, then serve the dashboard and API (the default)
  migrate   apply migrations and exit
  demo      apply migrations and load the demo company (loading it twice changes nothing)

Configuration comes from the environment; see README.md (DATABASE_URL is required).";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();

    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let result = match command.as_str() {
        "serve" => match Config::from_env() {
            Ok(config) => server::serve(config).await,
            Err(e) => Err(e),
        },
        "migrate" => with_pool(|_| async { Ok(()) }).await,
        "demo" => {
            with_pool(|pool| async move {
                let changed = server::demo::load(&pool)
                    .await
                    .map_err(|e| format!("loading the demo data failed: {e}"))?;
                println!("demo data loaded ({changed} records new or changed)");
                Ok(())
            })
            .await
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("modelgov: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Connects, waits for the database, migrates, then runs `task` with the pool.
async fn with_pool<F, Fut>(task: F) -> Result<(), String>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let config = Config::from_env()?;
    let pool = server::db::connect(&config)?;
    server::db::wait_and_migrate(
        &pool,
        std::time::Duration::from_secs(config.db_startup_wait_secs),
    )
    .await?;
    task(pool).await
}
