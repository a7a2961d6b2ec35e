//! The write service: the one way a write that is not a batch of records reaches the database
//! (registry operations, label mappings, the MLflow API's calls). Batches of records and
//! OpenLineage events go through the group commit (`ingest::queue`), which keeps the same rules
//! for many requests at once.
//!
//! A write here runs for a caller whose role it checks, in one transaction that the history
//! names the caller in, is tried again when a concurrent write got in its way (a deadlock, or a
//! key another write took at the same moment), and asks for a recompute once committed. A
//! surface that writes therefore cannot forget the recompute, the history's actor or the retry.
//! Compiled only with `ssr`.

use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};

use crate::error::AppError;
use crate::model::role::Role;
use crate::server::auth::Caller;
use crate::server::db::RACE;
use crate::server::metrics::Recomputer;
use crate::server::repo::graph::set_actor;

/// Times a write is tried when concurrent writes keep getting in its way.
const ATTEMPTS: usize = 4;

/// What the write service needs of the server's state.
#[derive(Clone)]
pub struct WriteService {
    pool: PgPool,
    recomputer: Recomputer,
}

/// An error a write can end with: the service's own are [`AppError`]s, and it must know a lost
/// race (tried again) from the rest (answered).
pub trait WriteError: From<AppError> {
    fn is_race(&self) -> bool;
}

impl WriteError for AppError {
    fn is_race(&self) -> bool {
        matches!(self, Self::Conflict(why) if why == RACE)
    }
}

impl WriteService {
    pub fn new(pool: PgPool, recomputer: Recomputer) -> Self {
        Self { pool, recomputer }
    }

    /// The pool, for reading back what a write did.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `work` for `caller`, who needs the role `needed` (403 otherwise, before anything is
    /// done), as described above. `work` may run more than once, each time in a new transaction.
    pub async fn run<T, E, F>(&self, caller: &Caller, needed: Role, mut work: F) -> Result<T, E>
    where
        E: WriteError,
        F: for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, Result<T, E>>,
    {
        caller.require(needed)?;
        let actor = caller.actor();
        let mut attempt = 1;
        loop {
            let mut tx = self.pool.begin().await.map_err(AppError::from)?;
            set_actor(&mut tx, &actor).await.map_err(AppError::from)?;
            match work(&mut tx).await {
                Ok(value) => {
                    tx.commit().await.map_err(AppError::from)?;
                    self.recomputer.request();
                    return Ok(value);
                }
                Err(error) if error.is_race() && attempt < ATTEMPTS => {
                    tracing::info!(attempt, "a concurrent write got in the way; trying again");
                    tx.rollback().await.map_err(AppError::from)?;
                    attempt += 1;
                }
                Err(error) => {
                    tx.rollback().await.map_err(AppError::from)?;
                    return Err(error);
                }
            }
        }
    }
}
