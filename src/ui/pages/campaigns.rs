//! Campaigns: the list (with a form for editors to start one), and one campaign's page: how many
//! selected models meet its goal now, by org unit, its burn-down from the start against the
//! straight line to the deadline, the date its pace projects, and the models still short with
//! what would lift each. As of a past time with `?as_of=`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::campaigns::{CloseCampaign, CreateCampaign, get_campaign_page, get_campaigns};
use crate::model::campaign::{Campaign, CampaignPage, NewCampaign, Progress};
use crate::model::dashboard::{model_href, unit_href};
use crate::model::metrics::Level;
use crate::model::record::Ref;
use crate::model::registry::Stage;
use crate::model::role::{Role, SignedIn};
use crate::model::routes;
use crate::ui::components::{Chart, CsvLink, ErrorPanel, LevelBadge, outcome, signed_in};

/// The address of campaign `id`'s page.
pub fn campaign_href(id: i64) -> String {
    format!("{}/{id}", routes::CAMPAIGNS_PATH)
}

fn share(p: &Progress) -> String {
    if p.total == 0 {
        return "–".into();
    }
    format!("{:.0}%", (p.met + p.exempt) as f64 * 100.0 / p.total as f64)
}

fn day(at: &str) -> String {
    at.split('T').next().unwrap_or(at).to_string()
}

#[component]
pub fn CampaignsRoute() -> impl IntoView {
    let create = ServerAction::<CreateCampaign>::new();
    let list =
        crate::ui::resource::page_resource(move || create.version().get(), |_| get_campaigns());
    view! {
        <Title text="Campaigns" />
        <h1>"Campaigns"</h1>
        <p class="hint">
            "A campaign sets a goal in the catalog's terms over a selection of models, with a deadline and an owner; its burn-down comes from the snapshots, so it reads as of any time."
        </p>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the campaigns…"</p> }>
            {move || Suspend::new(async move {
                let me = signed_in().await;
                match list.await {
                    Ok(campaigns) => view! {
                        <CampaignTable campaigns />
                        {me.filter(|me| me.may(Role::Editor)).map(|me| view! { <NewCampaignForm me create /> })}
                    }
                        .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A table of campaigns; also on unit pages (the campaigns that touch the unit).
#[component]
pub fn CampaignTable(campaigns: Vec<Campaign>) -> impl IntoView {
    if campaigns.is_empty() {
        return view! { <p class="muted" data-testid="campaigns">"No campaign yet."</p> }
            .into_any();
    }
    let rows: Vec<Vec<String>> = campaigns
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.name.clone(),
                c.goal.clone(),
                c.owner.clone(),
                day(&c.starts_at),
                day(&c.deadline),
                c.closed_at.as_deref().map_or_else(String::new, day),
            ]
        })
        .collect();
    view! {
        <table data-testid="campaigns">
            <thead>
                <tr>
                    <th scope="col">"Campaign"</th>
                    <th scope="col">"Goal"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Deadline"</th>
                    <th scope="col">"State"</th>
                </tr>
            </thead>
            <tbody>
                {campaigns
                    .into_iter()
                    .map(|c| {
                        let state = c
                            .closed_at
                            .as_deref()
                            .map_or_else(|| "open".to_string(), |at| format!("closed {}", day(at)));
                        view! {
                            <tr>
                                <td><a href=campaign_href(c.id)>{c.name.clone()}</a></td>
                                <td>{c.goal.clone()}</td>
                                <td>{c.owner.clone()}</td>
                                <td>{day(&c.deadline)}</td>
                                <td>{state}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <CsvLink
            file="campaigns.csv".to_string()
            header=&["id", "name", "goal", "owner", "starts", "deadline", "closed"]
            rows=Signal::stored(rows)
        />
    }
    .into_any()
}

#[component]
fn NewCampaignForm(me: SignedIn, create: ServerAction<CreateCampaign>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new("overall".to_string());
    let level = RwSignal::new("2".to_string());
    let unit = RwSignal::new(String::new());
    let status = RwSignal::new("production".to_string());
    let deadline = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let csrf = me.csrf;
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let units = unit
            .get_untracked()
            .split_once('/')
            .map(|(source, id)| {
                vec![Ref {
                    source: source.trim().into(),
                    id: id.trim().into(),
                }]
            })
            .unwrap_or_default();
        create.dispatch(CreateCampaign {
            csrf: csrf.clone(),
            campaign: NewCampaign {
                name: name.get_untracked(),
                scope: scope.get_untracked(),
                min_level: level
                    .get_untracked()
                    .parse::<u8>()
                    .ok()
                    .and_then(Level::new)
                    .unwrap_or(Level::MANAGED),
                units,
                tags: BTreeMap::new(),
                deployment_status: Stage::parse(&status.get_untracked()),
                starts_at: None,
                deadline: deadline.get_untracked(),
                owner: owner.get_untracked(),
            },
        });
    };
    view! {
        {outcome(create, |c: Campaign| format!("Campaign {} started: {}.", c.name, c.goal))}
        <form class="inline-form" on:submit=submit data-testid="new-campaign">
            <strong>"Start a campaign"</strong>
            <label>"Name" <input required bind:value=name placeholder="Fairness in production" /></label>
            <label>"Scope" <input required bind:value=scope placeholder="domain:fairness" /></label>
            <label>
                "At least level"
                <select bind:value=level>
                    <option value="1">"1 (basic)"</option>
                    <option value="2">"2 (managed)"</option>
                    <option value="3">"3 (optimized)"</option>
                </select>
            </label>
            <label>"Org unit (source/id; empty: the company)" <input bind:value=unit placeholder="hr/payments" /></label>
            <label>
                "Deployed in"
                <select bind:value=status>
                    <option value="production">"production"</option>
                    <option value="staging">"staging"</option>
                    <option value="">"any status"</option>
                </select>
            </label>
            <label>"Deadline" <input required type="date" bind:value=deadline /></label>
            <label>"Owner" <input required bind:value=owner placeholder="ML platform team" /></label>
            <button type="submit" disabled=create.pending()>"Start"</button>
        </form>
    }
}

#[component]
pub fn CampaignRoute() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let close = ServerAction::<CloseCampaign>::new();
    let page = crate::ui::resource::page_resource(
        move || {
            (
                params
                    .read()
                    .get("id")
                    .and_then(|id| id.parse::<i64>().ok())
                    .unwrap_or(0),
                query.read().get("as_of"),
                close.version().get(),
            )
        },
        |(id, as_of, _)| get_campaign_page(id, as_of),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the campaign…"</p> }>
            {move || Suspend::new(async move {
                let me = signed_in().await;
                match page.await {
                    Ok(page) => view! { <CampaignView page me close /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CampaignView(
    page: CampaignPage,
    me: Option<SignedIn>,
    close: ServerAction<CloseCampaign>,
) -> impl IntoView {
    let c = page.campaign.clone();
    let p = page.progress;
    let pace = match (page.pace_per_week, page.projected.as_deref(), p.short()) {
        (_, _, 0) if p.total > 0 => "Every selected model meets the goal or is exempt.".to_string(),
        (Some(pace), Some(date), _) => format!(
            "At {pace:.1} models a week, the last would be done by {date} (deadline {}).",
            day(&c.deadline)
        ),
        (Some(_), None, _) => {
            "No model left the list since the start: at this pace the goal is not reached.".into()
        }
        _ => "Not enough history yet to tell a pace.".into(),
    };
    let editor = me
        .filter(|me| me.may(Role::Editor) && c.closed_at.is_none())
        .map(|me| {
            let (csrf, id) = (me.csrf.clone(), c.id);
            view! {
                <button
                    type="button"
                    class="danger"
                    disabled=close.pending()
                    on:click=move |_| {
                        close.dispatch(CloseCampaign { csrf: csrf.clone(), id });
                    }
                >
                    "Close the campaign"
                </button>
            }
        });
    let state = match (&c.closed_at, &c.closed_by) {
        (Some(at), Some(by)) => format!(
            "Closed {} by {by}; the figures below are as of now, the final ones are kept.",
            day(at)
        ),
        _ => format!("Open: from {} to {}.", day(&c.starts_at), day(&c.deadline)),
    };
    let burn_rows: Vec<Vec<String>> = page
        .burn_down
        .iter()
        .map(|b| {
            vec![
                b.at.clone(),
                b.progress.met.to_string(),
                b.progress.exempt.to_string(),
                b.progress.short().to_string(),
                b.progress.total.to_string(),
            ]
        })
        .collect();
    let unit_rows: Vec<Vec<String>> = page
        .units
        .iter()
        .map(|u| {
            vec![
                u.unit.name.clone(),
                u.progress.met.to_string(),
                u.progress.exempt.to_string(),
                u.progress.short().to_string(),
                u.progress.total.to_string(),
            ]
        })
        .collect();
    let short_rows: Vec<Vec<String>> = page
        .short
        .iter()
        .map(|s| {
            vec![
                s.model.to_string(),
                s.name.clone(),
                s.level
                    .map_or_else(|| "unknown".into(), |l| l.get().to_string()),
                s.lift.join(" | "),
            ]
        })
        .collect();
    view! {
        <Title text=c.name.clone() />
        <nav class="crumbs" aria-label="Breadcrumbs">
            <a href=routes::CAMPAIGNS_PATH>"Campaigns"</a>
        </nav>
        <h1>{c.name.clone()}</h1>
        <p class="goal" data-testid="goal">{format!("Goal: {}.", c.goal)}</p>
        <p class="hint">{format!("Owner: {}. {state} Results as of {}.", c.owner, page.snapshot.computed_at)}</p>
        {outcome(close, |c: Campaign| format!("Campaign {} closed.", c.name))}
        <section aria-label="Progress">
            <p class="big-number" data-testid="progress">
                {format!(
                    "{} of {} meet the goal ({}), {} exempt, {} short.",
                    p.met,
                    p.total,
                    share(&p),
                    p.exempt,
                    p.short()
                )}
            </p>
            <p data-testid="projection">{pace}</p>
            {page
                .final_figures
                .as_ref()
                .and_then(|f| serde_json::from_value::<Progress>(f["progress"].clone()).ok())
                .map(|f| {
                    view! {
                        <p data-testid="final-figures">
                            {format!(
                                "When it was closed: {} of {} met the goal ({}), {} exempt, {} short.",
                                f.met,
                                f.total,
                                share(&f),
                                f.exempt,
                                f.short()
                            )}
                        </p>
                    }
                })}
            {editor}
        </section>
        <section>
            <h2>"Burn-down"</h2>
            <Chart
                svg=Signal::stored(Some(page.burn_down_svg.clone()))
                label="burn-down"
                file=format!("campaign-{}-burn-down.csv", c.id)
                csv_header=&["at", "met", "exempt", "short", "selected"]
                csv_rows=burn_rows
            >
                <p>{format!("{} points, one per day (every recompute of the last two days).", page.burn_down.len())}</p>
            </Chart>
        </section>
        <section>
            <h2>"By org unit"</h2>
            <table data-testid="campaign-units">
                <thead>
                    <tr>
                        <th scope="col">"Unit"</th>
                        <th scope="col">"Meet"</th>
                        <th scope="col">"Exempt"</th>
                        <th scope="col">"Short"</th>
                        <th scope="col">"Selected"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .units
                        .iter()
                        .map(|u| {
                            let name = if u.unit.id == 0 {
                                view! { <span>{u.unit.name.clone()}</span> }.into_any()
                            } else {
                                view! { <a href=unit_href(&u.unit, false)>{u.unit.name.clone()}</a> }.into_any()
                            };
                            view! {
                                <tr>
                                    <td>{name}</td>
                                    <td>{u.progress.met}</td>
                                    <td>{u.progress.exempt}</td>
                                    <td>{u.progress.short()}</td>
                                    <td>{u.progress.total}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink
                file=format!("campaign-{}-units.csv", c.id)
                header=&["unit", "met", "exempt", "short", "selected"]
                rows=Signal::stored(unit_rows)
            />
        </section>
        <section>
            <h2>"Still short"</h2>
            <p class="hint">
                {if page.short.is_empty() {
                    "No selected model is short of the goal.".to_string()
                } else {
                    format!(
                        "The {} lowest first (of {}), with what would lift each.",
                        page.short.len(),
                        p.short()
                    )
                }}
            </p>
            <table data-testid="campaign-short">
                <thead>
                    <tr>
                        <th scope="col">"Model"</th>
                        <th scope="col">"Level"</th>
                        <th scope="col">"What would lift it"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .short
                        .iter()
                        .map(|s| {
                            view! {
                                <tr data-model=s.model.to_string()>
                                    <td><a href=model_href(&s.model)>{s.name.clone()}</a></td>
                                    <td><LevelBadge level=s.level /></td>
                                    <td>
                                        <ul class="lift">
                                            {s.lift.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}
                                        </ul>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink
                file=format!("campaign-{}-short.csv", c.id)
                header=&["model", "name", "level", "lift"]
                rows=Signal::stored(short_rows)
            />
        </section>
    }
}
