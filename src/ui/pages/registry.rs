//! The model page's registry section: each deployment with its stage and the binary it serves,
//! and, for editors, the operations: promote, deploy another binary, roll back, retire, create a
//! deployment, register a binary. Viewers see the same table without a single button.

use leptos::prelude::*;

use crate::api::registry::Operate;
use crate::model::dashboard::ModelPage;
use crate::model::graph::AssetSummary;
use crate::model::record::Ref;
use crate::model::registry::{Operation, Stage};
use crate::model::role::{Role, SignedIn};

/// The source system of records the dashboard creates.
const SOURCE: &str = "modelgov";

#[component]
pub fn RegistryPanel(
    page: ModelPage,
    me: Option<SignedIn>,
    operate: ServerAction<Operate>,
) -> impl IntoView {
    let model = page.metrics.model.clone();
    let deployments: Vec<(AssetSummary, AssetSummary)> = page
        .binaries
        .iter()
        .flat_map(|b| b.deployments.iter().map(|d| (d.clone(), b.binary.clone())))
        .collect();
    let binaries: Vec<AssetSummary> = page.binaries.iter().map(|b| b.binary.clone()).collect();
    let editor = me.filter(|me| me.may(Role::Editor));
    let csrf = editor.as_ref().map(|me| me.csrf.clone());
    let run = {
        let csrf = csrf.clone();
        move |op: Operation| {
            if let Some(csrf) = csrf.clone() {
                operate.dispatch(Operate { csrf, op });
            }
        }
    };
    let pending = operate.pending();
    view! {
        <section id="deployments">
            <h2>"Deployments"</h2>
            {move || {
                operate
                    .value()
                    .get()
                    .map(|result| match result {
                        Ok(done) => {
                            view! {
                                <p class="form-ok" role="status" data-testid="operation-done">
                                    {format!("Done: {}.", done.summary)}
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <p class="form-error" role="alert" data-testid="operation-refused">
                                    {error.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
            {if deployments.is_empty() {
                view! { <p class="muted">"No deployment serves a binary of this model."</p> }.into_any()
            } else {
                view! {
                    <table data-testid="deployments">
                        <thead>
                            <tr>
                                <th scope="col">"Deployment"</th>
                                <th scope="col">"Stage"</th>
                                <th scope="col">"Serves"</th>
                                {editor.is_some().then(|| view! { <th scope="col">"Operations"</th> })}
                            </tr>
                        </thead>
                        <tbody>
                            {deployments
                                .into_iter()
                                .map(|(deployment, binary)| {
                                    let stage = deployment.status.as_deref().and_then(Stage::parse);
                                    view! {
                                        <tr data-deployment=deployment.key.id.clone()>
                                            <td>{deployment.name.clone()}</td>
                                            <td>
                                                <span class=format!(
                                                    "stage stage-{}",
                                                    stage.map_or("unknown", Stage::as_str),
                                                )>{stage.map_or("–", Stage::as_str)}</span>
                                            </td>
                                            <td>{binary.name.clone()}</td>
                                            {editor
                                                .is_some()
                                                .then(|| {
                                                    view! {
                                                        <td>
                                                            <div class="ops">
                                                            <DeploymentOps
                                                                deployment=deployment.key.clone()
                                                                serving=binary.key.clone()
                                                                stage
                                                                binaries=binaries.clone()
                                                                run=run.clone()
                                                                pending
                                                            />
                                                            </div>
                                                        </td>
                                                    }
                                                })}
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
            {editor
                .is_some()
                .then(|| {
                    view! {
                        <NewDeployment model=model.clone() binaries=binaries.clone() run=run.clone() pending />
                        <RegisterBinary model=model.clone() runs=page.runs.clone() run=run.clone() pending />
                    }
                })}
        </section>
    }
}

#[component]
fn DeploymentOps(
    deployment: Ref,
    serving: Ref,
    stage: Option<Stage>,
    binaries: Vec<AssetSummary>,
    run: impl Fn(Operation) + Clone + Send + Sync + 'static,
    pending: Memo<bool>,
) -> impl IntoView {
    if stage == Some(Stage::Retired) {
        return view! { <span class="muted">"retired"</span> }.into_any();
    }
    let others: Vec<AssetSummary> = binaries.into_iter().filter(|b| b.key != serving).collect();
    let chosen = RwSignal::new(others.first().map(|b| b.key.id.clone()).unwrap_or_default());
    let promote = stage.and_then(Stage::next).map(|next| {
        let (run, deployment) = (run.clone(), deployment.clone());
        view! {
            <button
                type="button"
                disabled=pending
                on:click=move |_| run(Operation::Promote { deployment: deployment.clone(), to: next })
            >
                {format!("Promote to {next}")}
            </button>
        }
    });
    let rollback = {
        let (run, deployment) = (run.clone(), deployment.clone());
        move |_| {
            run(Operation::Rollback {
                deployment: deployment.clone(),
            });
        }
    };
    let retire = {
        let (run, deployment) = (run.clone(), deployment.clone());
        move |_| {
            run(Operation::Retire {
                deployment: deployment.clone(),
            });
        }
    };
    let deploy = (!others.is_empty()).then(|| {
        let choices = others.clone();
        let (run, deployment) = (run.clone(), deployment.clone());
        let submit = move |_| {
            let id = chosen.get_untracked();
            if let Some(binary) = choices.iter().find(|b| b.key.id == id) {
                run(Operation::Deploy {
                    deployment: deployment.clone(),
                    binary: binary.key.clone(),
                });
            }
        };
        view! {
            <span class="deploy">
                <select aria-label="Binary to deploy" bind:value=chosen>
                    {others
                        .iter()
                        .map(|b| view! { <option value=b.key.id.clone()>{b.name.clone()}</option> })
                        .collect_view()}
                </select>
                <button type="button" disabled=pending on:click=submit>"Deploy"</button>
            </span>
        }
    });
    view! {
        {promote}
        <button type="button" disabled=pending on:click=rollback>"Roll back"</button>
        {deploy}
        <button type="button" class="danger" disabled=pending on:click=retire>"Retire"</button>
    }
    .into_any()
}

#[component]
fn NewDeployment(
    model: Ref,
    binaries: Vec<AssetSummary>,
    run: impl Fn(Operation) + Clone + Send + Sync + 'static,
    pending: Memo<bool>,
) -> impl IntoView {
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let binary = RwSignal::new(
        binaries
            .first()
            .map(|b| b.key.id.clone())
            .unwrap_or_default(),
    );
    let choices = binaries.clone();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen = binary.get_untracked();
        if let Some(b) = choices.iter().find(|b| b.key.id == chosen) {
            run(Operation::CreateDeployment {
                model: model.clone(),
                deployment: Ref {
                    source: SOURCE.into(),
                    id: id.get_untracked(),
                },
                name: name.get_untracked(),
                binary: b.key.clone(),
            });
        }
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid="new-deployment">
            <strong>"New deployment"</strong>
            <label>"Id" <input required bind:value=id placeholder="feed-ranker-eu" /></label>
            <label>"Name" <input required bind:value=name /></label>
            <label>
                "Serving"
                <select bind:value=binary>
                    {binaries
                        .iter()
                        .map(|b| view! { <option value=b.key.id.clone()>{b.name.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" disabled=pending>"Create in development"</button>
        </form>
    }
}

#[component]
fn RegisterBinary(
    model: Ref,
    runs: Vec<AssetSummary>,
    run: impl Fn(Operation) + Clone + Send + Sync + 'static,
    pending: Memo<bool>,
) -> impl IntoView {
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let from = RwSignal::new(runs.first().map(|r| r.key.id.clone()).unwrap_or_default());
    let choices = runs.clone();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen = from.get_untracked();
        if let Some(r) = choices.iter().find(|r| r.key.id == chosen) {
            run(Operation::Register {
                model: model.clone(),
                binary: Ref {
                    source: SOURCE.into(),
                    id: id.get_untracked(),
                },
                run: r.key.clone(),
                name: name.get_untracked(),
                description: String::new(),
            });
        }
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid="register-binary">
            <strong>"Register a binary"</strong>
            <label>"Id" <input required bind:value=id placeholder="feed-ranker/8" /></label>
            <label>"Name" <input required bind:value=name /></label>
            <label>
                "From run"
                <select bind:value=from>
                    {runs
                        .iter()
                        .map(|r| view! { <option value=r.key.id.clone()>{r.name.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" disabled=pending>"Register"</button>
        </form>
    }
}
