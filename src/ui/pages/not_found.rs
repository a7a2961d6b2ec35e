//! The page for an address that matches no route.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="panel">
            <h1>"Nothing here"</h1>
            <p>
                "No page has this address. " <a href="/">"Back to the company overview"</a>
            </p>
        </section>
    }
}
