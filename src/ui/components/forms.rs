//! What the dashboard's forms share: the line that says how the last submission went, and the
//! label mapping form (on the admin and ingestion pages).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::registry::SetMapping;
use crate::error::AppError;
use crate::model::record::AssetKind;

/// The outcome of the last form sent, as a line for people.
pub fn outcome<S>(
    action: ServerAction<S>,
    done: impl Fn(S::Output) -> String + Send + Sync + 'static,
) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || {
        action.value().get().map(|result| match result {
            Ok(value) => view! {
                <p class="form-ok" role="status" data-testid="outcome-done">{done(value)}</p>
            }
            .into_any(),
            Err(error) => view! {
                <p class="form-error" role="alert" data-testid="outcome-refused">{error.to_string()}</p>
            }
            .into_any(),
        })
    }
}

/// Sets a mapping: source, label and the canonical kind.
#[component]
pub fn MappingForm(action: ServerAction<SetMapping>, csrf: String) -> impl IntoView {
    view! {
        <ActionForm action attr:class="inline-form" attr:data-testid="set-mapping">
            <input type="hidden" name="csrf" value=csrf />
            <label>"Source" <input name="source" required /></label>
            <label>"Label" <input name="label" required /></label>
            <label>
                "Kind"
                <select name="kind">
                    {AssetKind::ALL
                        .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">"Set mapping"</button>
        </ActionForm>
    }
}
