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
use crate::ui::components::outcome;

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
    let admin = me.as_ref().is_some_and(|me| me.may(Role::Admin));
    let editor = me.filter(|me| me.may(Role::Editor));
    let csrf = editor.as_ref().map(|me| me.csrf.clone());
    // An admin may let a promotion or a deploy past a gate that refuses it, with a reason.
    let override_reason = RwSignal::new(String::new());
    let run = {
        let csrf = csrf.clone();
        move |mut op: Operation| {
            let reason = override_reason.get_untracked();
            if let Operation::Promote {
                override_reason, ..
            }
            | Operation::Deploy {
                override_reason, ..
            } = &mut op
            {
                *override_reason = (!reason.trim().is_empty()).then_some(reason);
            }
            if let Some(csrf) = csrf.clone() {
                operate.dispatch(Operate { csrf, op });
            }
        }
    };
    let pending = operate.pending();
    view! {
        <section id="deployments">
            <h2>"Deployments"</h2>
            {outcome(operate, |done| format!("Done: {}.", done.summary))}
            {admin
                .then(|| {
                    view! {
                        <label class="override">
                            "Gate override reason (admins; leave empty to respect the gates)"
                            <input bind:value=override_reason data-testid="override-reason" />
                        </label>
                    }
                })}
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
                        <NewRecordForm
                            title="New deployment"
                            testid="new-deployment"
                            placeholder="feed-ranker-eu"
                            choice_label="Serving"
                            button="Create in development"
                            choices=binaries.clone()
                            make={
                                let model = model.clone();
                                move |deployment, name, binary| Operation::CreateDeployment {
                                    model: model.clone(),
                                    deployment,
                                    name,
                                    binary,
                                }
                            }
                            run=run.clone()
                            pending
                        />
                        <NewRecordForm
                            title="Register a binary"
                            testid="register-binary"
                            placeholder="feed-ranker/8"
                            choice_label="From run"
                            button="Register"
                            choices=page.runs.clone()
                            make={
                                let model = model.clone();
                                move |binary, name, run| Operation::Register {
                                    model: model.clone(),
                                    binary,
                                    run,
                                    name,
                                    description: String::new(),
                                }
                            }
                            run=run.clone()
                            pending
                        />
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
                on:click=move |_| run(Operation::Promote { deployment: deployment.clone(), to: next, override_reason: None })
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
                    override_reason: None,
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

/// A form that creates a record of the model's from an id, a name and one of `choices` (the
/// binary a new deployment serves, the run a new binary comes from); `make` turns them into the
/// operation.
#[component]
fn NewRecordForm(
    title: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    choice_label: &'static str,
    button: &'static str,
    choices: Vec<AssetSummary>,
    make: impl Fn(Ref, String, Ref) -> Operation + Send + Sync + 'static,
    run: impl Fn(Operation) + Clone + Send + Sync + 'static,
    pending: Memo<bool>,
) -> impl IntoView {
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(
        choices
            .first()
            .map(|c| c.key.id.clone())
            .unwrap_or_default(),
    );
    let options = choices
        .iter()
        .map(|c| view! { <option value=c.key.id.clone()>{c.name.clone()}</option> })
        .collect_view();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let wanted = chosen.get_untracked();
        if let Some(choice) = choices.iter().find(|c| c.key.id == wanted) {
            let key = Ref {
                source: SOURCE.into(),
                id: id.get_untracked(),
            };
            run(make(key, name.get_untracked(), choice.key.clone()));
        }
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid=testid>
            <strong>{title}</strong>
            <label>"Id" <input required bind:value=id placeholder=placeholder /></label>
            <label>"Name" <input required bind:value=name /></label>
            <label>{choice_label} <select bind:value=chosen>{options}</select></label>
            <button type="submit" disabled=pending>{button}</button>
        </form>
    }
}
