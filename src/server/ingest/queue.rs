//! Group commit for writes: requests that arrive together are applied in one transaction.
//!
//! Each write request becomes a job on a queue, once its caller's token and role are checked (before
//! its body was read). Writer tasks take a job and every job already waiting behind it from the
//! same caller (up to a budget), apply them as one batch (in order; a rejected record or event
//! still changes nothing), commit once, and answer each request with its own results. A request
//! is answered only after the commit, so an acknowledged write is durable; what changes is that
//! sixteen concurrent one-record requests cost the database a few transactions instead of
//! sixteen.
//!
//! Records share one queue among the record writers. OpenLineage events have writers of their
//! own, each with its own queue, and every event of a run goes to the same one (by the run id's
//! hash): a run's events must be applied one after another, each seeing the ones before it, so
//! two writers holding events of one run would only wait for each other's commits. A batch of
//! events is one transaction; an event the graph refuses leaves nothing behind and is answered
//! alone. Compiled only with `ssr`.

use std::sync::Arc;

use sqlx::{Connection, PgPool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::apply::{apply, is_race};
use super::openlineage::{self, Checked, EventAnswer, SOURCE};
use super::parse::Item;
use crate::error::AppError;
use crate::model::record::{Outcome, RecordResult};
use crate::server::auth::Caller;
use crate::server::metrics::Recomputer;
use crate::server::repo::graph;

/// Records one transaction takes from several requests; a larger request runs on its own.
const BATCH_RECORDS: usize = 2_000;
/// Events one transaction takes from several requests.
const BATCH_EVENTS: usize = 64;
/// Requests waiting for a writer before new ones are told to retry (503): records, and events
/// per event writer.
const QUEUE_DEPTH: usize = 1_024;
/// Times a batch of events is applied again after a concurrent writer got in its way.
const ATTEMPTS: usize = 4;

/// What one request asks to write.
enum Work {
    Records {
        items: Vec<Item>,
        reply: oneshot::Sender<Result<Vec<RecordResult>, AppError>>,
    },
    Event {
        event: Box<Checked>,
        raw: serde_json::Value,
        reply: oneshot::Sender<Result<EventAnswer, AppError>>,
    },
}

struct Job {
    /// How the history names the caller.
    actor: String,
    work: Work,
}

impl Job {
    /// How many records this job adds to a batch (an event is one).
    fn size(&self) -> usize {
        match &self.work {
            Work::Records { items, .. } => items.len(),
            Work::Event { .. } => 1,
        }
    }
}

/// The handle requests write through; cheap to clone.
#[derive(Clone)]
pub struct WriteQueue {
    jobs: mpsc::Sender<Job>,
    /// One queue per event writer.
    events: Arc<[mpsc::Sender<Job>]>,
}

impl WriteQueue {
    /// Starts `writers` record writers and `event_writers` event writers on the current runtime.
    pub fn start(
        pool: PgPool,
        writers: usize,
        event_writers: usize,
        recomputer: Recomputer,
    ) -> Self {
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
        let events = (0..event_writers.max(1))
            .map(|_| {
                let (events, receiver) = mpsc::channel(QUEUE_DEPTH);
                tokio::spawn(event_loop(pool.clone(), receiver, recomputer.clone()));
                events
            })
            .collect();
        Self { jobs, events }
    }

    /// Applies `items` for `caller` (whose role the surface has checked), possibly together with
    /// other requests, and answers once the transaction holding them has committed.
    pub async fn write(
        &self,
        caller: &Caller,
        items: Vec<Item>,
    ) -> Result<Vec<RecordResult>, AppError> {
        let (reply, answer) = oneshot::channel();
        self.send(caller, Work::Records { items, reply })?;
        wait(answer).await
    }

    /// Applies one checked OpenLineage event for `caller`, possibly together with other events,
    /// and answers once it is committed (or, refused by the graph, once the refusal is kept).
    pub async fn event(
        &self,
        caller: &Caller,
        event: Checked,
        raw: serde_json::Value,
    ) -> Result<EventAnswer, AppError> {
        let (reply, answer) = oneshot::channel();
        let writer = &self.events[shard(&event.run_id, self.events.len())];
        send(
            writer,
            caller,
            Work::Event {
                event: Box::new(event),
                raw,
                reply,
            },
        )?;
        wait(answer).await
    }

    fn send(&self, caller: &Caller, work: Work) -> Result<(), AppError> {
        send(&self.jobs, caller, work)
    }
}

fn send(queue: &mpsc::Sender<Job>, caller: &Caller, work: Work) -> Result<(), AppError> {
    queue
        .try_send(Job {
            actor: caller.actor(),
            work,
        })
        .map_err(|_| AppError::Busy)
}

/// The event writer a run's events go to: the same one for every event of the run.
fn shard(run_id: &str, writers: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    run_id.hash(&mut hasher);
    usize::try_from(hasher.finish() % writers.max(1) as u64).unwrap_or(0)
}

async fn wait<T>(answer: oneshot::Receiver<Result<T, AppError>>) -> Result<T, AppError> {
    answer.await.map_err(|_| {
        tracing::error!("a writer stopped before answering");
        AppError::Internal
    })?
}

/// The shared end of the records' queue, with a job taken but left for the next batch (another
/// caller's).
struct Receiver {
    jobs: mpsc::Receiver<Job>,
    held: Option<Job>,
}

/// A record writer: batches from the shared queue.
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
            let (batch, held) = gather(first, &mut receiver.jobs, BATCH_RECORDS);
            receiver.held = held;
            batch
        };
        run_records(&pool, &recomputer, batch).await;
    }
}

/// An event writer: batches from its own queue.
async fn event_loop(pool: PgPool, mut receiver: mpsc::Receiver<Job>, recomputer: Recomputer) {
    let mut held = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match receiver.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let (batch, next) = gather(first, &mut receiver, BATCH_EVENTS);
        held = next;
        // The only writer of events must outlive a batch that panics: that batch's callers are
        // answered 500 (their replies are dropped), the next batch is written as usual.
        let done = std::panic::AssertUnwindSafe(run_events(&pool, &recomputer, batch));
        if futures::FutureExt::catch_unwind(done).await.is_err() {
            tracing::error!("a batch of OpenLineage events panicked; its callers got 500");
        }
    }
}

/// `first` and the jobs waiting behind it from the same caller, up to `most` records or events
/// in all; the first job of another caller is handed back for the next batch.
fn gather(first: Job, jobs: &mut mpsc::Receiver<Job>, most: usize) -> (Vec<Job>, Option<Job>) {
    let mut taken = first.size();
    let mut batch = vec![first];
    while taken < most {
        match jobs.try_recv() {
            Ok(job) if job.actor == batch[0].actor && taken + job.size() <= most => {
                taken += job.size();
                batch.push(job);
            }
            Ok(job) => return (batch, Some(job)),
            Err(_) => break,
        }
    }
    (batch, None)
}

/// Applies the record jobs as one batch and answers each with its slice of the results; when
/// the graph changed, a recompute is asked for before anyone is answered.
async fn run_records(pool: &PgPool, recomputer: &Recomputer, batch: Vec<Job>) {
    let actor = batch[0].actor.clone();
    let mut items = Vec::new();
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        if let Work::Records { items: more, reply } = job.work {
            replies.push((reply, more.len()));
            items.extend(more);
        }
    }
    match apply(pool, &actor, &items).await {
        Ok(results) => {
            if results
                .iter()
                .any(|r| matches!(r.status, Outcome::Created | Outcome::Updated))
            {
                recomputer.request();
            }
            let mut results = results.into_iter();
            for (reply, size) in replies {
                let _ = reply.send(Ok(results.by_ref().take(size).collect()));
            }
        }
        Err(error) => {
            for (reply, _) in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// Applies the event jobs in one transaction and answers each (after asking for a recompute when
/// one was kept). A refused event leaves nothing behind but its refusal, which is kept for the
/// ingestion page.
async fn run_events(pool: &PgPool, recomputer: &Recomputer, batch: Vec<Job>) {
    let actor = batch[0].actor.clone();
    let mut jobs: Vec<EventJob> = batch
        .into_iter()
        .filter_map(|job| match job.work {
            Work::Event { event, raw, reply } => Some((event, raw, reply)),
            Work::Records { .. } => None,
        })
        .collect();
    // One order of the runs' locks for every writer (no deadlock between two batches); a run's
    // own events keep the order they came in.
    jobs.sort_by(|a, b| a.0.run_id.cmp(&b.0.run_id));
    let applied = apply_events(pool, &actor, &jobs).await;
    match applied {
        Ok(answers) => {
            if answers.iter().any(|a| !refused(a)) {
                recomputer.request();
            }
            for ((_, _, reply), answer) in jobs.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(error) => {
            for (_, _, reply) in jobs {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

fn refused(answer: &EventAnswer) -> bool {
    answer.results.iter().any(|r| r.status == Outcome::Rejected)
}

type EventJob = (
    Box<Checked>,
    serde_json::Value,
    oneshot::Sender<Result<EventAnswer, AppError>>,
);

async fn apply_events(
    pool: &PgPool,
    actor: &str,
    jobs: &[EventJob],
) -> Result<Vec<EventAnswer>, AppError> {
    for _ in 0..ATTEMPTS {
        let mut tx = pool.begin().await?;
        match events_in(&mut tx, actor, jobs).await {
            Ok(answers) => {
                tx.commit().await?;
                return Ok(answers);
            }
            Err(error) if is_race(&error) => {
                tracing::info!(%error, "a concurrent write got in the way; applying the events again");
                tx.rollback().await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::Conflict(
        "concurrent writes to the same assets kept getting in the way; send the event again".into(),
    ))
}

async fn events_in(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    jobs: &[EventJob],
) -> Result<Vec<EventAnswer>, sqlx::Error> {
    // All at once first: the records of every event in one pass. When the graph refuses any of
    // them, that pass is undone and the events are applied one by one, so that only the
    // refused event is left out.
    if jobs.len() > 1 {
        let events: Vec<(&Checked, &serde_json::Value)> =
            jobs.iter().map(|(e, raw, _)| (e.as_ref(), raw)).collect();
        let mut all = tx.begin().await?;
        let answers = openlineage::apply_events(&mut all, actor, &events).await?;
        if answers.iter().any(refused) {
            all.rollback().await?;
        } else {
            all.commit().await?;
            return Ok(answers);
        }
    }
    let mut answers = Vec::with_capacity(jobs.len());
    for (event, raw, _) in jobs {
        let mut one = tx.begin().await?;
        let answer = openlineage::apply_event(&mut one, actor, event, raw).await?;
        if refused(&answer) {
            one.rollback().await?;
            // Nothing of the event is kept, but the refusal is, for the ingestion page.
            let reasons: Vec<String> = answer
                .results
                .iter()
                .filter_map(|r| r.error.clone())
                .collect();
            graph::set_actor(&mut *tx, actor).await?;
            graph::write_rejections(
                &mut *tx,
                &[(
                    SOURCE.to_string(),
                    answer.run.id.clone(),
                    Some(raw.clone()),
                    reasons.join("; "),
                )],
            )
            .await?;
        } else {
            one.commit().await?;
        }
        answers.push(answer);
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::shard;

    #[test]
    fn a_runs_events_always_go_to_the_same_writer_and_runs_spread_over_writers() {
        for run in ["r-1", "0f1e2d3c", ""] {
            let first = shard(run, 3);
            assert!(first < 3);
            assert!((0..10).all(|_| shard(run, 3) == first));
        }
        let used: std::collections::HashSet<usize> =
            (0..100).map(|i| shard(&format!("run-{i}"), 3)).collect();
        assert_eq!(used.len(), 3, "100 runs all went to {used:?}");
        assert_eq!(shard("anything", 1), 0);
        assert_eq!(shard("anything", 0), 0);
    }
}
