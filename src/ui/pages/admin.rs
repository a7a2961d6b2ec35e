//! The admin page: API tokens (create, shown once; list by name and role; revoke) and the label
//! mappings. Only admins see it; the server checks the role and CSRF secret of every change.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::registry::{CreateToken, DeleteMapping, RevokeToken, SetMapping, get_admin_page};
use crate::error::AppError;
use crate::model::admin::AdminPage;
use crate::model::role::SignedIn;
use crate::ui::components::{ErrorPanel, MappingForm, outcome, signed_in};

#[component]
pub fn AdminRoute() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let set = ServerAction::<SetMapping>::new();
    let delete = ServerAction::<DeleteMapping>::new();
    let page = crate::ui::resource::page_resource(
        move || {
            (
                create.version().get(),
                revoke.version().get(),
                set.version().get(),
                delete.version().get(),
            )
        },
        |_| get_admin_page(),
    );
    view! {
        <Title text="Admin" />
        <h1>"Admin"</h1>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = signed_in().await;
                match (page.await, me) {
                    (Ok(page), Some(me)) => {
                        view! { <AdminView page me create revoke set delete /> }.into_any()
                    }
                    (Err(error), _) => view! { <ErrorPanel error /> }.into_any(),
                    (Ok(_), None) => {
                        view! { <ErrorPanel error=AppError::Unauthorized("sign in first".into()) /> }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn AdminView(
    page: AdminPage,
    me: SignedIn,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
    set: ServerAction<SetMapping>,
    delete: ServerAction<DeleteMapping>,
) -> impl IntoView {
    let csrf = me.csrf;
    let csrf_field = csrf.clone();
    let mapping_csrf = csrf.clone();
    view! {
        <section id="tokens">
            <h2>"Tokens"</h2>
            <p class="hint">
                "API clients send a token as " <code>"Authorization: Bearer …"</code>
                "; people sign in with one. A token is shown once, when it is created."
            </p>
            <ActionForm action=create attr:class="inline-form" attr:data-testid="create-token">
                <input type="hidden" name="csrf" value=csrf_field.clone() />
                <label>"Name" <input name="name" required maxlength="200" /></label>
                <label>
                    "Role"
                    <select name="role">
                        <option value="viewer">"viewer"</option>
                        <option value="editor">"editor"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </label>
                <button type="submit">"Create token"</button>
            </ActionForm>
            {outcome(create, |t| format!("Created the {} token {:?}. Copy it now; it is not shown again: {}", t.role, t.name, t.token))}
            {outcome(revoke, |()| "Revoked; its sessions have ended.".to_string())}
            <table data-testid="tokens">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"State"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .tokens
                        .into_iter()
                        .map(|t| {
                            let active = t.revoked_at.is_none();
                            let csrf = csrf.clone();
                            view! {
                                <tr>
                                    <td>{t.name.clone()}</td>
                                    <td>{t.role.as_str()}</td>
                                    <td>{t.created_at.clone()}</td>
                                    <td>
                                        {t
                                            .revoked_at
                                            .clone()
                                            .map_or_else(|| "active".to_string(), |at| format!("revoked {at}"))}
                                    </td>
                                    <td>
                                        {active
                                            .then(|| {
                                                view! {
                                                    <ActionForm action=revoke>
                                                        <input type="hidden" name="csrf" value=csrf />
                                                        <input type="hidden" name="name" value=t.name.clone() />
                                                        <button type="submit" class="danger">
                                                            "Revoke"
                                                        </button>
                                                    </ActionForm>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section id="mappings">
            <h2>"Label mappings"</h2>
            <p class="hint">
                "How each tool's label reads in modelgov's vocabulary. Setting a mapping applies the \
                 quarantined records it covers."
            </p>
            <MappingForm action=set csrf=mapping_csrf />
            {outcome(set, |summary| summary)}
            {outcome(delete, |()| "Mapping removed; assets already written keep their kind.".to_string())}
            <table data-testid="mappings">
                <thead>
                    <tr>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Waiting in quarantine"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .mappings
                        .into_iter()
                        .map(|m| {
                            let csrf = csrf.clone();
                            let mapped = !m.kind.is_empty();
                            view! {
                                <tr>
                                    <td>{m.source.clone()}</td>
                                    <td>{m.label.clone()}</td>
                                    <td>{if mapped { m.kind.clone() } else { "— unmapped —".into() }}</td>
                                    <td class="num">{m.quarantined}</td>
                                    <td>
                                        {mapped
                                            .then(|| {
                                                view! {
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="csrf" value=csrf />
                                                        <input type="hidden" name="source" value=m.source.clone() />
                                                        <input type="hidden" name="label" value=m.label.clone() />
                                                        <button type="submit" class="danger">"Remove"</button>
                                                    </ActionForm>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
