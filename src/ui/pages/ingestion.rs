//! The ingestion page: how each tool's labels map to modelgov's kinds, the records waiting in
//! quarantine for a mapping, the records refused with the reason, and the OpenLineage events
//! received last. A signed-in admin sets mappings here (or on the admin page, or through
//! `PUT /api/v1/mappings/{source}/{label}`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::model::dashboard::Crumb;

use crate::api::dashboard::get_ingestion_page;
use crate::api::registry::SetMapping;
use crate::model::ingestion::{IngestionPage, RECENT_CHANGES};
use crate::model::role::{Role, SignedIn};
use crate::ui::components::signed_in;
use crate::ui::components::{Breadcrumbs, CsvLink, ErrorPanel};
use crate::ui::pages::admin::{MappingForm, outcome};

#[component]
pub fn IngestionRoute() -> impl IntoView {
    let set = ServerAction::<SetMapping>::new();
    let page = Resource::new(move || set.version().get(), |_| get_ingestion_page());
    view! {
        <Title text="Ingestion" />
        <Breadcrumbs crumbs=vec![
            Crumb { label: "Company".into(), href: "/".into() },
            Crumb { label: "Ingestion".into(), href: "/ingestion".into() },
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
    let mapping_rows: Vec<Vec<String>> = page
        .mappings
        .iter()
        .map(|m| {
            vec![
                m.source.clone(),
                m.label.clone(),
                m.kind.clone(),
                m.quarantined.to_string(),
            ]
        })
        .collect();
    let quarantine_rows: Vec<Vec<String>> = page
        .quarantine
        .iter()
        .map(|q| {
            vec![
                q.source.clone(),
                q.external_id.clone(),
                q.label.clone(),
                q.actor.clone(),
                q.received_at.clone(),
            ]
        })
        .collect();
    let rejection_rows: Vec<Vec<String>> = page
        .rejections
        .iter()
        .map(|r| {
            vec![
                r.at.clone(),
                r.source.clone(),
                r.external_id.clone(),
                r.reason.clone(),
                r.actor.clone(),
            ]
        })
        .collect();
    let event_rows: Vec<Vec<String>> = page
        .events
        .iter()
        .map(|e| {
            vec![
                e.received_at.clone(),
                e.event_type.clone(),
                e.event_time.clone(),
                e.run_id.clone(),
                e.job.clone(),
                e.actor.clone(),
            ]
        })
        .collect();
    let source_rows: Vec<Vec<String>> = page
        .sources
        .iter()
        .map(|s| {
            vec![
                s.source.clone(),
                s.last_at.clone(),
                s.actor.clone(),
                s.last_change.clone(),
                s.changes.to_string(),
            ]
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
            <CsvLink file="mappings.csv".to_string() header=&["source", "label", "kind", "quarantined"] rows=Signal::stored(mapping_rows) />
            <table data-testid="mappings">
                <thead>
                    <tr>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Tool label"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col" class="num">"Waiting"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .mappings
                        .into_iter()
                        .map(|m| {
                            let unmapped = m.kind.is_empty();
                            view! {
                                <tr class:unmapped=unmapped>
                                    <td>{m.source}</td>
                                    <td>{m.label}</td>
                                    <td>{if unmapped { "no mapping yet".to_string() } else { m.kind }}</td>
                                    <td class="num">{m.quarantined}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section>
            <h2>"Quarantine"</h2>
            <CsvLink file="quarantine.csv".to_string() header=&["source", "id", "label", "sent_by", "received_at"] rows=Signal::stored(quarantine_rows) />
            <table data-testid="quarantine">
                <thead>
                    <tr>
                        <th scope="col">"Record"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Sent by"</th>
                        <th scope="col">"Received"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .quarantine
                        .into_iter()
                        .map(|q| {
                            view! {
                                <tr>
                                    <td><code>{format!("{}/{}", q.source, q.external_id)}</code></td>
                                    <td>{q.label}</td>
                                    <td>{q.actor}</td>
                                    <td>{q.received_at}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section>
            <h2>"Rejected records"</h2>
            <CsvLink
                file="rejections.csv".to_string()
                header=&["at", "source", "id", "reason", "sent_by"]
                rows=Signal::stored(rejection_rows)
            />
            <table data-testid="rejections">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Record"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"Sent by"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rejections
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr>
                                    <td>{r.at}</td>
                                    <td>
                                        <code>{format!("{}/{}", r.source, r.external_id)}</code>
                                    </td>
                                    <td>{r.reason}</td>
                                    <td>{r.actor}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section>
            <h2>"Last writes per source"</h2>
            <p class="hint">
                {format!(
                    "What each source system wrote last, through any surface, among the newest {RECENT_CHANGES} changes to the graph."
                )}
            </p>
            <CsvLink file="sources.csv".to_string() header=&["source", "last_at", "sent_by", "last_change", "recent_changes"] rows=Signal::stored(source_rows) />
            <table data-testid="sources">
                <thead>
                    <tr>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Last write"</th>
                        <th scope="col">"Sent by"</th>
                        <th scope="col">"What"</th>
                        <th scope="col" class="num">"Changes"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .sources
                        .into_iter()
                        .map(|s| {
                            view! {
                                <tr>
                                    <td>{s.source}</td>
                                    <td>{s.last_at}</td>
                                    <td>{s.actor}</td>
                                    <td>{s.last_change}</td>
                                    <td class="num">{s.changes}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section>
            <h2>"Last OpenLineage events"</h2>
            <CsvLink file="lineage-events.csv".to_string() header=&["received_at", "type", "event_time", "run", "job", "sent_by"] rows=Signal::stored(event_rows) />
            <table data-testid="events">
                <thead>
                    <tr>
                        <th scope="col">"Received"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Run"</th>
                        <th scope="col">"Job"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .events
                        .into_iter()
                        .map(|e| {
                            view! {
                                <tr>
                                    <td>{e.received_at}</td>
                                    <td>{format!("{} at {}", e.event_type, e.event_time)}</td>
                                    <td><code>{e.run_id}</code></td>
                                    <td>{e.job}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
