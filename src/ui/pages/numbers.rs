//! "About the numbers": what a level means, how metrics make a domain's level and a model's
//! overall level, how units roll up, what unknown is, and the catalog in use, domain by domain.
//! Every scorecard links here.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_catalog;
use crate::model::dashboard::metric_href;
use crate::model::metrics::{Catalog, Level, Rule};
use crate::ui::components::{ErrorPanel, LevelBadge};

fn rule_text(rule: Rule) -> &'static str {
    match rule {
        Rule::Mean => "the weighted mean of the known levels, rounded down,",
        Rule::Min => "the worst known level",
    }
}

#[component]
pub fn NumbersRoute() -> impl IntoView {
    let catalog = crate::ui::resource::page_resource(|| (), |()| get_catalog());
    view! {
        <Title text="About the numbers" />
        <h1>"About the numbers"</h1>
        <section aria-labelledby="levels">
            <h2 id="levels">"Levels"</h2>
            <p>
                "Every metric puts a model source at one of four levels, from what the graph and "
                "the reported measurements say, by the thresholds of the metric catalog:"
            </p>
            <ul class="level-list">
                {Level::ALL
                    .into_iter()
                    .map(|level| {
                        let meaning = match level.get() {
                            0 => "a gap that needs action now",
                            1 => "the practice exists but is not kept up",
                            2 => "kept up as the catalog asks",
                            _ => "as good as the catalog measures",
                        };
                        view! {
                            <li>
                                <LevelBadge level=Some(level) />
                                " "
                                {meaning}
                            </li>
                        }
                    })
                    .collect_view()}
                <li>
                    <LevelBadge level=None />
                    " the facts the metric needs are not recorded; each metric's page says when"
                </li>
            </ul>
            <p>
                "Unknown is never counted as a level: it is shown apart, everywhere, so that a "
                "score never hides what it could not see."
            </p>
        </section>
        <section aria-labelledby="domains">
            <h2 id="domains">"Domains and the overall level"</h2>
            <p>
                "Metrics belong to domains (fairness, efficiency, safety, …). A model's level in a "
                "domain comes from its metrics' known levels by the domain's rule, and its overall "
                "level from its domains' levels by the overall rule. A model with no known level in "
                "a domain is unknown there."
            </p>
        </section>
        <section aria-labelledby="rollups">
            <h2 id="rollups">"How units roll up"</h2>
            <p>
                "A team counts the models it owns; an org, its own and every model below it; the "
                "company, every model, including those no unit owns. For each scope (overall, a "
                "domain or a metric) a unit shows how many of its models sit at each level and how "
                "many are unknown, and its score: the mean level of its known models, from 0 (at "
                "risk) to 3 (optimized)."
            </p>
            <p>
                "Each score says what it rests on (\"rests on 5 of 6 models\"): a score over few "
                "known models says little. Counts follow the scope chosen on the page."
            </p>
        </section>
        <section aria-labelledby="time">
            <h2 id="time">"Over time"</h2>
            <p>
                "Results are kept as snapshots: after every burst of writes (within seconds), and "
                "in full at start and regularly (hourly by default). A page as of a past time shows the snapshot computed by then; "
                "the trend draws the score of each snapshot in its window, and the change card "
                "gives the difference between its first and last. The last two days keep every "
                "snapshot, older days their last one."
            </p>
        </section>
        <section aria-labelledby="catalog">
            <h2 id="catalog">"The catalog in use"</h2>
            <Suspense fallback=|| {
                view! { <p class="loading" aria-busy="true">"Loading the catalog…"</p> }
            }>
                {move || Suspend::new(async move {
                    match catalog.await {
                        Ok(catalog) => view! { <CatalogView catalog /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CatalogView(catalog: Catalog) -> impl IntoView {
    view! {
        <p>
            "Version " <code>{catalog.version.clone()}</code> ". A model's overall level is "
            {rule_text(catalog.overall_rule)} " of its domains. The same catalog is at "
            <a href="/api/v1/catalog" rel="external">"/api/v1/catalog"</a> "."
        </p>
        {catalog
            .domains
            .iter()
            .map(|d| {
                let metrics: Vec<_> = catalog
                    .metrics
                    .iter()
                    .filter(|m| m.domain == d.id)
                    .cloned()
                    .collect();
                view! {
                    <h3>{d.name.clone()}</h3>
                    <p class="muted">
                        {format!("A model's level here is {} of these metrics (weight {} in the overall level).", rule_text(d.rule), d.weight)}
                    </p>
                    <ul>
                        {metrics
                            .into_iter()
                            .map(|m| {
                                view! {
                                    <li>
                                        <a href=metric_href(&m.id)>{m.id.replace('_', " ")}</a>
                                        ": "
                                        {m.question.clone()}
                                        " "
                                        <span class="muted">{format!("({})", m.unit)}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })
            .collect_view()}
    }
}
