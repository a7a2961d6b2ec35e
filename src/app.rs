//! The HTML shell, the router and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::api::session::whoami;
use crate::model::routes;
use crate::ui::components::{Me, SessionNav};
use crate::ui::pages::{
    AboutPage, AdminRoute, AssetRoute, CampaignRoute, CampaignsRoute, IngestionRoute, MetricRoute,
    ModelRoute, NotFoundPage, NumbersRoute, OverviewPage, SearchRoute, SignInRoute, UnitRoute,
};

/// The document around every page; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <link rel="stylesheet" href=format!("/{}/modelgov.css", options.site_pkg_dir) />
                <Hydration options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Loads the browser bundle and hydrates the page once the page has painted (two animation
/// frames after the document is parsed), with no preload before: the server's HTML is the whole
/// page, so its first paint waits on nothing but the stylesheet, and the 550 KB bundle takes no
/// bandwidth from it. Until then, links and forms work as plain HTML. Once hydrated, the root
/// element says so (`data-hydrated`).
#[component]
fn Hydration(options: LeptosOptions) -> impl IntoView {
    let pkg = options.site_pkg_dir.to_string();
    let script = format!(
        "const hydrate = () => import('/{pkg}/modelgov.js').then((m) => \
         m.default({{ module_or_path: '/{pkg}/modelgov_bg.wasm' }}).then(() => m.hydrate()));\
         requestAnimationFrame(() => requestAnimationFrame(hydrate));"
    );
    view! { <script type="module" nonce=leptos::nonce::use_nonce()>{script}</script> }
}

/// The app: header, routes and footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(policy) = http::HeaderValue::from_str(
            &crate::server::access::content_security_policy(leptos::nonce::use_nonce().as_deref()),
        )
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
    }
    // Effects run only in the browser, once the page is hydrated: say so on the root element.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    // Who is signed in: read once per page, from the session the server found.
    provide_context(Me(Resource::new(|| (), |()| whoami())));

    view! {
        // leptos_meta writes the title's text into the server's HTML as it is: escape it there (a
        // name holding `</title>` must not end the element); the browser sets `document.title`,
        // which takes plain text.
        <Title formatter=|page: String| {
            let title = format!("{page} · modelgov");
            if cfg!(feature = "ssr") { crate::model::text::escape_html(&title) } else { title }
        } />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">
                    "modelgov"
                </a>
                <span class="tagline">"How well governed are our models?"</span>
                <nav class="mainnav" aria-label="Main">
                    <a href=routes::COMPANY_PATH>"Company"</a>
                    <a href=routes::UNITS_PATH>"All org units"</a>
                    <a href=routes::CAMPAIGNS_PATH>"Campaigns"</a>
                    <a href=routes::SEARCH_PATH>"Search"</a>
                    <a href=routes::INGESTION_PATH>"Ingestion"</a>
                </nav>
                <SessionNav />
            </header>
            <main class="content">
                // Pages wait for their data before sending headers, so a failed read can still set
                // the status (503 while the database is away) and pages work without JavaScript.
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=UnitRoute ssr=SsrMode::Async />
                    <Route path=StaticSegment(routes::UNITS) view=OverviewPage ssr=SsrMode::Async />
                    <Route path=StaticSegment(routes::UNOWNED) view=UnitRoute ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment(routes::UNITS), ParamSegment("source"), ParamSegment("id"))
                        view=UnitRoute
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment(routes::MODELS), ParamSegment("source"), ParamSegment("id"))
                        view=ModelRoute
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment(routes::ASSETS), ParamSegment("source"), ParamSegment("id"))
                        view=AssetRoute
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment(routes::METRICS), ParamSegment("id"))
                        view=MetricRoute
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment(routes::SEARCH) view=SearchRoute ssr=SsrMode::Async />
                    <Route path=StaticSegment(routes::ABOUT) view=AboutPage />
                    <Route path=StaticSegment(routes::NUMBERS) view=NumbersRoute ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment(routes::INGESTION)
                        view=IngestionRoute
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment(routes::SIGN_IN) view=SignInRoute ssr=SsrMode::Async />
                    <Route path=StaticSegment(routes::ADMIN) view=AdminRoute ssr=SsrMode::Async />
                    <Route path=StaticSegment(routes::CAMPAIGNS) view=CampaignsRoute ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment(routes::CAMPAIGNS), ParamSegment("id"))
                        view=CampaignRoute
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
