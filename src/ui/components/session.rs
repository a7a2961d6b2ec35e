//! Who is signed in, shown in the header with sign-in and sign-out.

use leptos::prelude::*;

use crate::api::session::SignOut;
use crate::error::AppError;
use crate::model::dashboard::{encode, query_value};
use crate::model::role::{Role, SignedIn};
use crate::model::routes;

/// Who is signed in to this browser, read once per page; pages show only the buttons the
/// reader's role may use (the server checks again on every change).
#[derive(Clone, Copy)]
pub struct Me(pub Resource<Result<Option<SignedIn>, AppError>>);

/// The reader, once known: `None` when reading without signing in.
pub async fn signed_in() -> Option<SignedIn> {
    let Me(me) = expect_context::<Me>();
    me.await.ok().flatten()
}

/// Loads `href` as a new page, so that everything is read again as the new reader.
pub fn reload_at(href: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(href);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}

/// The address of the page being shown, exactly as requested (path and query, still encoded).
pub fn current_address() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.uri.path_and_query().map(ToString::to_string))
            .unwrap_or_else(|| "/".into())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let location = window().location();
        format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        )
    }
}

/// The `next` address a sign-in link carries, decoded once; see [`local_address`].
pub fn next_address() -> String {
    let address = current_address();
    let query = address.split_once('?').map_or("", |(_, q)| q);
    local_address(query_value(query, "next"))
}

/// A local address to go to after signing in: a path on this site, or the company page. Only
/// visible ASCII is let through (a path as this site writes it is percent-encoded), so that no
/// tab, newline or backslash can turn it into another site's address (`/\t/evil.example` reads
/// as `//evil.example` in a browser) or break a `Location` header.
pub fn local_address(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.chars().all(|c| c.is_ascii_graphic() && c != '\\')
    })
    .unwrap_or_else(|| "/".into())
}

#[component]
pub fn SessionNav() -> impl IntoView {
    view! {
        <div class="session">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    if let Some(me) = signed_in().await {
                            view! {
                                <span class="who" data-testid="signed-in">
                                    {me.name.clone()}
                                    <span class="role">{me.role.as_str()}</span>
                                </span>
                                {me.may(Role::Admin).then(|| view! { <a href=routes::ADMIN_PATH>"Admin"</a> })}
                                <SignOutButton csrf=me.csrf />
                            }
                                .into_any()
                    } else {
                            let here = current_address();
                            let href = if here.starts_with(routes::SIGN_IN_PATH) {
                                routes::SIGN_IN_PATH.to_string()
                            } else {
                                format!("{}?next={}", routes::SIGN_IN_PATH, encode(&here))
                            };
                            view! { <a href=href data-testid="sign-in-link">"Sign in"</a> }.into_any()
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn SignOutButton(csrf: String) -> impl IntoView {
    let action = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            reload_at("/");
        }
    });
    view! {
        <ActionForm action=action attr:class="signout">
            <input type="hidden" name="csrf" value=csrf />
            <button type="submit" class="link">"Sign out"</button>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    use super::local_address;

    #[test]
    fn only_local_addresses_are_followed() {
        assert_eq!(
            local_address(Some("/models/git/a?x=1".into())),
            "/models/git/a?x=1"
        );
        assert_eq!(local_address(Some("//evil.example".into())), "/");
        assert_eq!(local_address(Some("https://evil.example".into())), "/");
        assert_eq!(local_address(Some("/\\evil.example".into())), "/");
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /x",
            "/\u{e9}",
            "/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(local_address(Some(hostile.into())), "/", "{hostile:?}");
        }
        assert_eq!(local_address(None), "/");
    }
}
