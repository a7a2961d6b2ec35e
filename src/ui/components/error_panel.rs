//! A page-level message for a read that failed, saying what the reader can do about it.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let hint = match error {
        AppError::Unavailable => {
            "modelgov will recover by itself once the database is back; reload in a moment."
        }
        AppError::NotFound(_) => "Check the address, or start again from the company overview.",
        AppError::BadRequest(_) => {
            "A filter in the address is not one this page takes; change it, or start again from the company page."
        }
        AppError::Unauthorized(_) => "Sign in (top right) to read this.",
        AppError::Forbidden(_) => "Sign in with a token whose role allows this.",
        _ => "Reload the page; if it keeps failing, the server log has the details.",
    };
    view! {
        <section class="panel error" role="alert" data-testid="error-panel">
            <h2>"This page could not be loaded"</h2>
            <p>{error.to_string()}</p>
            <p class="hint">{hint}</p>
        </section>
    }
}
