//! Group commit for writes: requests that arrive together are applied in one transaction.
//!
//! Each write request becomes a job on a queue, once its caller's token and role are checked (before
//! its body was read). A few writer tasks take a job and every job already waiting behind it from
//! the same caller (up to a record budget), apply them as one batch
//! (records keep their order, and a rejected record still changes nothing), commit once, and answer
//! each request with its own results. A request is answered only after the commit, so an
//! acknowledged write is durable; what changes is that sixteen concurrent one-record requests cost
//! the database a few transactions instead of sixteen. Compiled only with `ssr`.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::apply::apply;
use super::parse::Item;
use crate::error::AppError;
use crate::model::record::{Outcome, RecordResult};
use crate::server::auth::Caller;
use crate::server::metrics::Recomputer;

/// Records one transaction takes from several requests; a larger request runs on its own.
const BATCH_RECORDS: usize = 2_000;
/// Requests waiting for a writer before new ones are told to retry (503).
const QUEUE_DEPTH: usize = 1_024;

struct Job {
    /// How the history names the caller.
    actor: String,
    items: Vec<Item>,
    reply: oneshot::Sender<Result<Vec<RecordResult>, AppError>>,
}

/// The handle requests write through; cheap to clone.
#[derive(Clone)]
pub struct WriteQueue {
    jobs: mpsc::Sender<Job>,
}

impl WriteQueue {
    /// Starts `writers` writer tasks on the current runtime.
    pub fn start(pool: PgPool, writers: usize, recomputer: Recomputer) -> Self {
        let (jobs, receiver) = mpsc::channel(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(Receiver {
            jobs: receiver,
            held: None,
        }));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_loop(
                pool.clone(),
                receiver.clone(),
                recomputer.clone(),
            ));
        }
        Self { jobs }
    }

    /// Applies `items` for `caller` (whose role the surface has checked), possibly together with
    /// other requests, and answers once the transaction holding them has committed.
    pub async fn write(
        &self,
        caller: &Caller,
        items: Vec<Item>,
    ) -> Result<Vec<RecordResult>, AppError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .try_send(Job {
                actor: caller.actor(),
                items,
                reply,
            })
            .map_err(|_| AppError::Busy)?;
        answer.await.map_err(|_| {
            tracing::error!("a writer stopped before answering");
            AppError::Internal
        })?
    }
}

/// The shared end of the queue, with a job taken but left for the next batch (another actor's).
struct Receiver {
    jobs: mpsc::Receiver<Job>,
    held: Option<Job>,
}

async fn write_loop(pool: PgPool, receiver: Arc<Mutex<Receiver>>, recomputer: Recomputer) {
    loop {
        let batch = {
            let mut receiver = receiver.lock().await;
            let first = match receiver.held.take() {
                Some(job) => job,
                None => match receiver.jobs.recv().await {
                    Some(job) => job,
                    None => return,
                },
            };
            let mut records = first.items.len();
            let mut batch = vec![first];
            while records < BATCH_RECORDS {
                match receiver.jobs.try_recv() {
                    Ok(job)
                        if job.actor == batch[0].actor
                            && records + job.items.len() <= BATCH_RECORDS =>
                    {
                        records += job.items.len();
                        batch.push(job);
                    }
                    Ok(job) => {
                        receiver.held = Some(job);
                        break;
                    }
                    Err(_) => break,
                }
            }
            batch
        };
        if run(&pool, batch).await {
            recomputer.request();
        }
    }
}

/// Applies the jobs as one batch and answers each with its slice of the results; true when the
/// graph changed.
async fn run(pool: &PgPool, batch: Vec<Job>) -> bool {
    let actor = batch[0].actor.clone();
    let sizes: Vec<usize> = batch.iter().map(|job| job.items.len()).collect();
    let mut items = Vec::with_capacity(sizes.iter().sum());
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        items.extend(job.items);
        replies.push(job.reply);
    }
    match apply(pool, &actor, &items).await {
        Ok(results) => {
            let changed = results
                .iter()
                .any(|r| matches!(r.status, Outcome::Created | Outcome::Updated));
            let mut results = results.into_iter();
            for (reply, size) in replies.into_iter().zip(sizes) {
                let _ = reply.send(Ok(results.by_ref().take(size).collect()));
            }
            changed
        }
        Err(error) => {
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
            false
        }
    }
}
