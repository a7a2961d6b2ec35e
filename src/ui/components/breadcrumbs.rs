//! Where the page sits: company > org > team > model, each a link.

use leptos::prelude::*;

use crate::model::dashboard::Crumb;

#[component]
pub fn Breadcrumbs(crumbs: Vec<Crumb>) -> impl IntoView {
    let last = crumbs.len().saturating_sub(1);
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb" data-testid="breadcrumbs">
            <ol>
                {crumbs
                    .into_iter()
                    .enumerate()
                    .map(|(i, crumb)| {
                        if i == last {
                            view! {
                                <li>
                                    <a href=crumb.href aria-current="page">
                                        {crumb.label}
                                    </a>
                                </li>
                            }
                                .into_any()
                        } else {
                            view! {
                                <li>
                                    <a href=crumb.href>{crumb.label}</a>
                                </li>
                            }
                                .into_any()
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}
