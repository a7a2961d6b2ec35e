//! The ingestion page: how each tool's labels map to modelgov's kinds, the records waiting in
//! quarantine for a mapping, the records refused with the reason, and the OpenLineage events
//! received last. A signed-in admin sets mappings here (or on the admin page, or through
//! `PUT /api/v1/mappings/{source}/{label}`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::model::dashboard::Crumb;
use crate::model::routes;

use crate::api::dashboard::get_ingestion_page;
use crate::api::registry::SetMapping;
use crate::model::ingestion::{IngestionPage, RECENT_CHANGES};
use crate::model::role::{Role, SignedIn};
use crate::ui::components::{Breadcrumbs, ErrorPanel, MappingForm, TextTable, outcome, signed_in};

#[component]
pub fn IngestionRoute() -> impl IntoView {
    let set = ServerAction::<SetMapping>::new();
    let page =
        crate::ui::resource::page_resource(move || set.version().get(), |_| get_ingestion_page());
    view! {
        <Title text="Ingestion" />
        <Breadcrumbs crumbs=vec![
            Crumb { label: "Company".into(), href: "/".into() },
            Crumb { label: "Ingestion".into(), href: routes::INGESTION_PATH.into() },
        ] />
        <h1>"Ingestion"</h1>
        <p class="lede">
            "Every tool's labels, the canonical kind each maps to, and what waits for a mapping."
        </p>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = signed_in().await.filter(|me| me.may(Role::Admin));
                match page.await {
                    Ok(page) => view! { <IngestionView page admin set /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn IngestionView(
    page: IngestionPage,
    admin: Option<SignedIn>,
    set: ServerAction<SetMapping>,
) -> impl IntoView {
    let cells = |values: &[&str]| values.iter().map(ToString::to_string).collect::<Vec<_>>();
    let mappings: Vec<Vec<String>> = page
        .mappings
        .iter()
        .map(|m| {
            let kind = if m.kind.is_empty() {
                "no mapping yet"
            } else {
                &m.kind
            };
            cells(&[&m.source, &m.label, kind, &m.quarantined.to_string()])
        })
        .collect();
    let quarantine: Vec<Vec<String>> = page
        .quarantine
        .iter()
        .map(|q| {
            cells(&[
                &q.source,
                &q.external_id,
                &q.label,
                &q.actor,
                &q.received_at,
            ])
        })
        .collect();
    let rejections: Vec<Vec<String>> = page
        .rejections
        .iter()
        .map(|r| {
            cells(&[
                &r.at,
                &r.source,
                &r.external_id,
                &crate::model::ingestion::plain_reason(&r.reason),
                &r.actor,
            ])
        })
        .collect();
    let sources: Vec<Vec<String>> = page
        .sources
        .iter()
        .map(|s| {
            cells(&[
                &s.source,
                &s.last_at,
                &s.actor,
                &s.last_change,
                &s.changes.to_string(),
            ])
        })
        .collect();
    let events: Vec<Vec<String>> = page
        .events
        .iter()
        .map(|e| {
            cells(&[
                &e.received_at,
                &e.event_type,
                &e.event_time,
                &e.run_id,
                &e.job,
                &e.actor,
            ])
        })
        .collect();
    view! {
        <section>
            <h2>"Label mappings"</h2>
            {admin
                .map(|me| {
                    view! {
                        <MappingForm action=set csrf=me.csrf />
                        {outcome(set, |summary| summary)}
                    }
                })}
            <TextTable
                testid="mappings"
                file="mappings.csv"
                header=&["source", "label", "kind", "quarantined"]
                labels=&["Source", "Tool label", "Kind", "Waiting"]
                numeric=&[3]
                rows=mappings
            />
        </section>
        <section>
            <h2>"Quarantine"</h2>
            <TextTable
                testid="quarantine"
                file="quarantine.csv"
                header=&["source", "id", "label", "sent_by", "received_at"]
                labels=&["Source", "Id", "Label", "Sent by", "Received"]
                rows=quarantine
            />
        </section>
        <section>
            <h2>"Rejected records"</h2>
            <TextTable
                testid="rejections"
                file="rejections.csv"
                header=&["at", "source", "id", "reason", "sent_by"]
                labels=&["When", "Source", "Id", "Why", "Sent by"]
                rows=rejections
            />
        </section>
        <section>
            <h2>"Last writes per source"</h2>
            <p class="hint">
                {format!(
                    "What each source system wrote last, through any surface, among the newest {RECENT_CHANGES} changes to the graph."
                )}
            </p>
            <TextTable
                testid="sources"
                file="sources.csv"
                header=&["source", "last_at", "sent_by", "last_change", "recent_changes"]
                labels=&["Source", "Last write", "Sent by", "What", "Changes"]
                numeric=&[4]
                rows=sources
            />
        </section>
        <section>
            <h2>"Last OpenLineage events"</h2>
            <TextTable
                testid="events"
                file="lineage-events.csv"
                header=&["received_at", "type", "event_time", "run", "job", "sent_by"]
                labels=&["Received", "Event", "Event time", "Run", "Job", "Sent by"]
                rows=events
            />
        </section>
    }
}
