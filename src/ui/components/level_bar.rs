//! How a unit's models spread over the levels: the mean known level, a bar split by level in the
//! level colours, and the counts in words for readers who cannot see the colours.

use leptos::prelude::*;

use crate::model::metrics::{Counts, Level};

#[component]
pub fn LevelBar(counts: Counts, score: Option<f64>) -> impl IntoView {
    let total = counts.total();
    let words = Level::ALL
        .iter()
        .map(|level| {
            format!(
                "{} {}",
                counts.levels[usize::from(level.get())],
                level.name()
            )
        })
        .chain(std::iter::once(format!("{} unknown", counts.unknown)))
        .chain((counts.exempt > 0).then(|| format!("{} exempt", counts.exempt)))
        .collect::<Vec<_>>()
        .join(", ");
    let segments = (total > 0).then(|| {
        let mut parts: Vec<(String, i64)> = Level::ALL
            .iter()
            .map(|level| (format!("level-{}", level.get()), counts.levels[usize::from(level.get())]))
            .collect();
        parts.push(("level-unknown".into(), counts.unknown));
        parts.push(("level-exempt".into(), counts.exempt));
        parts
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(class, n)| {
                let width = n as f64 * 100.0 / total as f64;
                view! { <span class=format!("segment {class}") style=format!("width: {width:.2}%")></span> }
            })
            .collect_view()
    });
    view! {
        <span class="level-bar" data-testid="level-bar">
            <span class="score">{score.map_or_else(|| "–".to_string(), |s| format!("{s:.2}"))}</span>
            <span class="bar" role="img" aria-label=words.clone() title=words.clone()>
                {segments}
            </span>
            <span class="visually-hidden">{words}</span>
        </span>
    }
}
