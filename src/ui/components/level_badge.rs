//! A level (or unknown) as a coloured badge with its name, the same colour everywhere.

use leptos::prelude::*;

use crate::model::dashboard::Bucket;
use crate::model::metrics::Level;

#[component]
pub fn LevelBadge(level: Option<Level>) -> impl IntoView {
    let bucket = Bucket::of(level);
    let text = match level {
        Some(level) => format!("{} · {}", level.get(), level.name()),
        None => "unknown".to_string(),
    };
    view! {
        <span class=format!("badge {}", bucket.class()) data-testid="level-badge">
            {text}
        </span>
    }
}
