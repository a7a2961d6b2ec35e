//! The model page's gates and exemptions: whether a promotion into each gated stage would pass
//! now (before anyone clicks), the model's exemptions with who asked, who approved and when they
//! expire, a form to ask for one (editors; an admin's request is granted at once), and for
//! admins the buttons that approve, renew or revoke.

use leptos::prelude::*;

use crate::api::governance::{DecideExemption, RequestExemption, get_model_governance};
use crate::model::governance::{Exemption, ExemptionStatus, GateCheck, NewExemption, Unmet};
use crate::model::record::Ref;
use crate::model::role::{Role, SignedIn};
use crate::ui::components::{ErrorPanel, outcome};

/// `scopes`: every domain and metric an exemption may be for, as (scope, label).
#[component]
pub fn GovernancePanel(
    model: Ref,
    scopes: Vec<(String, String)>,
    me: Option<SignedIn>,
) -> impl IntoView {
    let ask = ServerAction::<RequestExemption>::new();
    let decide = ServerAction::<DecideExemption>::new();
    let governance = {
        let model = model.clone();
        Resource::new(
            move || (ask.version().get(), decide.version().get()),
            move |_| get_model_governance(model.clone()),
        )
    };
    let editor = me.clone().filter(|me| me.may(Role::Editor));
    let admin = me.filter(|me| me.may(Role::Admin));
    view! {
        <section id="governance">
            <h2>"Gates and exemptions"</h2>
            {outcome(ask, |e: Exemption| match e.status {
                ExemptionStatus::Active => format!("Exemption {} for {} granted until {}.", e.id, e.scope, day(&e.expires_at)),
                _ => format!("Exemption {} for {} asked for; an admin approves it.", e.id, e.scope),
            })}
            {outcome(decide, |e: Exemption| format!("Exemption {} is {} (until {}).", e.id, e.status.as_str(), day(&e.expires_at)))}
            <Suspense fallback=|| view! { <p class="loading">"Loading gates and exemptions…"</p> }>
                {move || {
                    let admin = admin.clone();
                    Suspend::new(async move {
                        match governance.await {
                            Ok(g) => view! {
                                <Gates checks=g.gates />
                                <Exemptions rows=g.exemptions admin decide />
                            }
                                .into_any(),
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
            {editor.map(|me| view! { <AskForm model=model.clone() scopes=scopes.clone() me ask /> })}
        </section>
    }
}

/// The date part of an RFC 3339 time.
fn day(at: &str) -> String {
    at.split('T').next().unwrap_or(at).to_string()
}

fn unmet_list(items: Vec<Unmet>) -> impl IntoView {
    view! { <ul>{items.into_iter().map(|u| view! { <li>{u.sentence()}</li> }).collect_view()}</ul> }
}

#[component]
fn Gates(checks: Vec<GateCheck>) -> impl IntoView {
    if checks.is_empty() {
        return view! {
            <p class="muted" data-testid="gates">"The catalog declares no promotion gate: every promotion is up to the registry's rules."</p>
        }
        .into_any();
    }
    view! {
        <ul class="gates" data-testid="gates">
            {checks
                .into_iter()
                .map(|check| {
                    let verdict = if check.passes { "would pass" } else { "would be refused" };
                    let class = if check.passes { "gate gate-pass" } else { "gate gate-refused" };
                    let exempted = (!check.exempted.is_empty())
                        .then(|| {
                            view! {
                                <p class="hint">"Met through an exemption:"</p>
                                {unmet_list(check.exempted.clone())}
                            }
                        });
                    let unmet = (!check.unmet.is_empty()).then(|| unmet_list(check.unmet.clone()));
                    view! {
                        <li class=class data-gate=check.status.as_str()>
                            <strong>{format!("Promotion to {}: {verdict}", check.status)}</strong>
                            {unmet}
                            {exempted}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Exemptions(
    rows: Vec<Exemption>,
    admin: Option<SignedIn>,
    decide: ServerAction<DecideExemption>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted" data-testid="exemptions">"No exemption was asked for."</p> }
            .into_any();
    }
    let pending = decide.pending();
    view! {
        <table data-testid="exemptions">
            <thead>
                <tr>
                    <th scope="col">"Scope"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Reason"</th>
                    <th scope="col">"Asked by"</th>
                    <th scope="col">"Approved by"</th>
                    <th scope="col">"Expires"</th>
                    {admin.is_some().then(|| view! { <th scope="col">"Decide"</th> })}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|e| {
                        let buttons = admin.as_ref().map(|me| {
                            let csrf = me.csrf.clone();
                            let act = move |decision: &'static str| {
                                let csrf = csrf.clone();
                                move |_| {
                                    decide.dispatch(DecideExemption {
                                        csrf: csrf.clone(),
                                        id: e.id,
                                        decision: decision.into(),
                                        expires_at: None,
                                    });
                                }
                            };
                            let approve = (e.status == ExemptionStatus::Requested)
                                .then(|| view! { <button type="button" disabled=pending on:click=act("approve")>"Approve"</button> });
                            let revoke = (e.status != ExemptionStatus::Revoked)
                                .then(|| view! { <button type="button" class="danger" disabled=pending on:click=act("revoke")>"Revoke"</button> });
                            view! { <td>{approve} {revoke}</td> }
                        });
                        view! {
                            <tr data-exemption=e.id>
                                <td>{e.scope.clone()}</td>
                                <td>
                                    <span class=format!("exemption exemption-{}", e.status.as_str())>
                                        {e.status.as_str()}
                                    </span>
                                </td>
                                <td class="reason">{e.reason.clone()}</td>
                                <td>{e.requested_by.clone()}</td>
                                <td>{e.approved_by.clone().unwrap_or_else(|| "–".into())}</td>
                                <td>{day(&e.expires_at)}</td>
                                {buttons}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn AskForm(
    model: Ref,
    scopes: Vec<(String, String)>,
    me: SignedIn,
    ask: ServerAction<RequestExemption>,
) -> impl IntoView {
    let scope = RwSignal::new(scopes.first().map(|(s, _)| s.clone()).unwrap_or_default());
    let reason = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let admin = me.may(Role::Admin);
    let csrf = me.csrf;
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        ask.dispatch(RequestExemption {
            csrf: csrf.clone(),
            exemption: NewExemption {
                model: model.clone(),
                scope: scope.get_untracked(),
                reason: reason.get_untracked(),
                expires_at: expires.get_untracked(),
            },
        });
    };
    let options = scopes
        .into_iter()
        .map(|(value, label)| view! { <option value=value>{label}</option> })
        .collect_view();
    view! {
        <form class="inline-form" on:submit=submit data-testid="ask-exemption">
            <strong>{if admin { "Grant an exemption" } else { "Ask for an exemption" }}</strong>
            <label>"For" <select bind:value=scope>{options}</select></label>
            <label>"Reason" <input required bind:value=reason placeholder="red-team review booked for March" /></label>
            <label>"Expires on" <input required type="date" bind:value=expires /></label>
            <button type="submit" disabled=ask.pending()>
                {if admin { "Grant" } else { "Ask" }}
            </button>
        </form>
    }
}
