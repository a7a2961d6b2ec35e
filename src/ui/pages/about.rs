//! The about page: a heading and a sentence, no data. It is also the load benchmark's yardstick
//! for what the page shell alone costs (scripts/bench, section 6).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AboutPage() -> impl IntoView {
    view! {
        <Title text="About" />
        <h1>"About modelgov"</h1>
    }
}
