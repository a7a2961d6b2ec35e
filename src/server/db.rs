//! The Postgres pool, migrations, and how database errors become `AppError`s. Compiled only with `ssr`.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::config::Config;
use crate::error::AppError;

/// A pool that connects lazily, so the server starts (and answers 503) while Postgres is away, and
/// reconnects by itself when it is back: a connection that fails is dropped, not reused.
pub fn connect(config: &Config) -> Result<PgPool, String> {
    let options = PgConnectOptions::from_str(&config.database_url)
        .map_err(|e| format!("DATABASE_URL is not a valid Postgres URL: {e}"))?
        .application_name("modelgov")
        .options([(
            "statement_timeout",
            format!("{}ms", config.db_statement_timeout_ms),
        )]);
    Ok(PgPoolOptions::new()
        .max_connections(config.db_pool_size)
        .min_connections(0)
        .acquire_timeout(Duration::from_millis(config.db_acquire_timeout_ms))
        .idle_timeout(Duration::from_mins(5))
        // Every connection is pinged as it goes back to the pool and dropped if broken, so a
        // second ping on the way out would only add a round trip to every request.
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

/// Waits up to `wait` for the database to answer, then applies the migrations.
pub async fn wait_and_migrate(pool: &PgPool, wait: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        match sqlx::query("SELECT 1").execute(pool).await {
            Ok(_) => break,
            Err(e) if started.elapsed() < wait => {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => {
                return Err(format!(
                    "the database did not answer within {}s (MODELGOV_DB_STARTUP_WAIT_SECS): {e}",
                    wait.as_secs()
                ));
            }
        }
    }
    migrate(pool).await
}

/// Applies the migrations in `migrations/` that have not been applied yet, on a connection of
/// its own without the requests' statement timeout: on a large database a migration may rebuild
/// indexes or rewrite tables for minutes. The connection is closed afterwards.
pub async fn migrate(pool: &PgPool) -> Result<(), String> {
    let failed = |e: &dyn std::fmt::Display| format!("migrations failed: {e}");
    let mut conn = pool.acquire().await.map_err(|e| failed(&e))?.detach();
    sqlx::Executor::execute(&mut conn, "SET statement_timeout = 0")
        .await
        .map_err(|e| failed(&e))?;
    sqlx::migrate!()
        .run(&mut conn)
        .await
        .map_err(|e| failed(&e))
}

/// True when the error means the database could not be reached or gave up, not that the query
/// was wrong: those pass by themselves and are answered 503.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        // 57P01-57P03: the server is shutting down or starting; 57014: statement timeout.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "57014")),
        _ => false,
    }
}

/// What a write that lost a race to another is told (409): the write service tries such a write
/// again before it answers.
pub const RACE: &str = "another change to the same records happened at the same moment; nothing of this one was kept, retry it";

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        let code = match &error {
            sqlx::Error::Database(e) => e.code().map(|c| c.to_string()),
            _ => None,
        };
        if is_unavailable(&error) {
            tracing::warn!(%error, "database unavailable");
            Self::Unavailable
        } else if let Some(code @ ("23505" | "40P01" | "40001")) = code.as_deref() {
            // Two writes to the same records at once: one wins, the other is told to retry
            // (nothing of it was kept).
            tracing::info!(%error, code, "write conflict");
            Self::Conflict(RACE.into())
        } else if let Some(code @ ("22021" | "22P05" | "54000")) = code.as_deref() {
            // A value the caller sent that Postgres cannot take (a NUL character, a key too long
            // for an index): every surface checks its fields first; this is the backstop, so
            // that one it missed is still the caller's 400, not the server's 500.
            tracing::warn!(%error, code, "a value the database cannot store");
            Self::BadRequest(
                "a value holds the NUL character or is too long to be stored; nothing was changed"
                    .into(),
            )
        } else {
            tracing::error!(%error, "database error");
            Self::Internal
        }
    }
}
