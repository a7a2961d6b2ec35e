//! The `modelgov` binary: `serve` (the default), `migrate`, `demo`, `token`.

use std::process::ExitCode;

use modelgov::model::role::Role;
use modelgov::server::{self, config::Config, demo::DemoSize, repo::tokens};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: modelgov [command]

  serve                         apply migrations, then serve the dashboard and API (the default)
  migrate                       apply migrations and exit
  demo [--model-sources N] [--seed S] [--batch B] [--history-days D] [--if-empty]
                                load a generated demo company (default: 60 model sources, seed 7,
                                times laid out before today 00:00 UTC); the same size and seed
                                again on the same day changes nothing; into a database without
                                results, it is loaded as it grew over the last D days (default
                                182, 0 for none), judged at the end of every week, so that trends
                                have history; --if-empty loads only into a database without org
                                units
  recompute [--from-scratch]    judge every model source against the metric catalog now (the
                                results the graph's changes did not reach are aged by the clock;
                                --from-scratch reads every fact from the graph again)
  token create --name NAME --role viewer|editor|admin
                                create an API token and print it (it is shown only this once)
  token list                    list tokens by name and role
  token revoke --name NAME      revoke the active token with this name
  help                          this text

Configuration comes from the environment; see README.md (DATABASE_URL is required).";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=error,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        [] | ["serve"] => match Config::from_env() {
            Ok(config) => server::serve(config).await,
            Err(e) => Err(e),
        },
        ["migrate"] => with_pool(|_| async { Ok(()) }).await,
        ["demo", options @ ..] => demo(options).await,
        ["recompute"] => recompute(false).await,
        ["recompute", "--from-scratch"] => recompute(true).await,
        ["token", "create", options @ ..] => token_create(options).await,
        ["token", "list"] => token_list().await,
        ["token", "revoke", options @ ..] => token_revoke(options).await,
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command {:?}\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("modelgov: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads `--name value` pairs; anything else is an error naming it.
fn options<'a>(words: &[&'a str], known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut found = Vec::new();
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        let name = word
            .strip_prefix("--")
            .filter(|n| known.contains(n))
            .ok_or_else(|| {
                format!(
                    "unknown option {word:?}; expected one of --{}",
                    known.join(", --")
                )
            })?;
        let value = rest
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        found.push((name, *value));
    }
    Ok(found)
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("--{name} must be a whole number, not {value:?}"))
}

async fn demo(words: &[&str]) -> Result<(), String> {
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or_else(chrono::Utc::now, |t| t.and_utc());
    let mut size = DemoSize {
        model_sources: 60,
        seed: 7,
        now: today,
        batch: 5_000,
    };
    let if_empty = words.contains(&"--if-empty");
    let words: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| *w != "--if-empty")
        .collect();
    let mut history_days: u32 = 182;
    for (name, value) in options(&words, &["model-sources", "seed", "batch", "history-days"])? {
        match name {
            "model-sources" => size.model_sources = number(name, value)?,
            "seed" => size.seed = number(name, value)?,
            "history-days" => history_days = number(name, value)?,
            _ => size.batch = number(name, value)?,
        }
    }
    let config = Config::from_env()?;
    let catalog = server::metrics::catalog::load(config.catalog_path.as_deref())?;
    with_pool(|pool| async move {
        if if_empty
            && !server::repo::org_units::list(&pool)
                .await
                .map_err(|e| e.to_string())?
                .is_empty()
        {
            println!("the database already holds org units: the demo data is not loaded again");
            return Ok(());
        }
        let report = server::demo::load_with_history(&pool, size, &catalog, history_days)
            .await
            .map_err(|e| format!("loading the demo data failed: {e}"))?;
        let outcomes: Vec<String> = report
            .by_outcome
            .iter()
            .map(|(outcome, n)| format!("{n} {outcome}"))
            .collect();
        println!(
            "demo data: {} model sources, {} records in {:.1}s ({:.0} records/s): {}",
            size.model_sources,
            report.records,
            report.seconds,
            report.records as f64 / report.seconds.max(0.001),
            outcomes.join(", ")
        );
        Ok(())
    })
    .await
}

async fn recompute(from_scratch: bool) -> Result<(), String> {
    let config = Config::from_env()?;
    let catalog = server::metrics::catalog::load(config.catalog_path.as_deref())?;
    with_pool(|pool| async move {
        let done = if from_scratch {
            server::metrics::recompute_from_scratch(&pool, &catalog).await
        } else {
            server::metrics::recompute(&pool, &catalog).await
        }
        .map_err(|e| format!("the recompute failed: {e}"))?;
        println!(
            "snapshot {}: {} model sources judged against catalog {} in {:.2}s",
            done.snapshot_id,
            done.models,
            catalog.version,
            done.duration.as_secs_f64()
        );
        Ok(())
    })
    .await
}

async fn token_create(words: &[&str]) -> Result<(), String> {
    let (mut name, mut role) = (None, None);
    for (option, value) in options(words, &["name", "role"])? {
        if option == "name" {
            name = Some(value.to_string());
        } else {
            role =
                Some(Role::parse(value).ok_or_else(|| {
                    format!("--role must be viewer, editor or admin, not {value:?}")
                })?);
        }
    }
    let name = name.ok_or("token create needs --name")?;
    let role = role.ok_or("token create needs --role")?;
    with_pool(|pool| async move {
        let token = tokens::create(&pool, &name, role)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("created the {role} token {name:?}; it is shown only now:");
        println!("{token}");
        Ok(())
    })
    .await
}

async fn token_list() -> Result<(), String> {
    with_pool(|pool| async move {
        for token in tokens::list(&pool).await.map_err(|e| e.to_string())? {
            let state = token
                .revoked_at
                .map_or_else(|| "active".to_string(), |t| format!("revoked {t}"));
            println!(
                "{:<24} {:<7} created {}  {state}",
                token.name, token.role, token.created_at
            );
        }
        Ok(())
    })
    .await
}

async fn token_revoke(words: &[&str]) -> Result<(), String> {
    let name = options(words, &["name"])?
        .first()
        .map(|(_, v)| (*v).to_string())
        .ok_or("token revoke needs --name")?;
    with_pool(|pool| async move {
        if tokens::revoke(&pool, &name)
            .await
            .map_err(|e| e.to_string())?
        {
            println!("revoked the token {name:?}");
            Ok(())
        } else {
            Err(format!("no active token is named {name:?}"))
        }
    })
    .await
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
