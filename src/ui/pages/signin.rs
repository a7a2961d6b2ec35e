//! Signing in with a token. The token is traded for a session cookie and never shown again.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::session::SignIn;
use crate::ui::components::{next_address, reload_at, signed_in};

#[component]
pub fn SignInRoute() -> impl IntoView {
    let next = next_address;
    let action = ServerAction::<SignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            reload_at(&next());
        }
    });
    view! {
        <Title text="Sign in" />
        <h1>"Sign in"</h1>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match signed_in().await {
                    Some(me) => {
                        // Without JavaScript the form comes back here once signed in: go on.
                        #[cfg(feature = "ssr")]
                        if crate::ui::components::current_address().contains("next=") {
                            leptos_axum::redirect(&next());
                        }
                        view! {
                            <p data-testid="already-signed-in">
                                "You are signed in as " <strong>{me.name}</strong> " with the "
                                {me.role.as_str()} " role. " <a href=next()>"Continue"</a>
                            </p>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <p class="lede">
                                "Paste your modelgov token. It is exchanged for a session cookie \
                                 and not kept in the browser."
                            </p>
                            <ActionForm action=action attr:class="signin-form">
                                <label>
                                    "Token"
                                    <input
                                        type="password"
                                        name="token"
                                        autocomplete="off"
                                        required
                                        data-testid="token-input"
                                    />
                                </label>
                                <button type="submit">"Sign in"</button>
                            </ActionForm>
                            {move || {
                                action
                                    .value()
                                    .get()
                                    .and_then(Result::err)
                                    .map(|error| {
                                        view! {
                                            <p class="form-error" role="alert" data-testid="sign-in-error">
                                                {error.to_string()}
                                            </p>
                                        }
                                    })
                            }}
                            <p class="hint">
                                "No token yet? An admin creates one on the admin page, or with "
                                <code>"modelgov token create --name <you> --role editor"</code> "."
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
