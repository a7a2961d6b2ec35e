//! Hostile metadata is text on every page: no element, attribute, handler, address or refresh
//! comes from the data, whatever context it lands in.

use super::*;
use modelgov::model::role::Role;

/// Strings that would become markup, script or a redirect if any context forgot to escape.
const HOSTILE: [&str; 9] = [
    "</title><meta http-equiv=\"refresh\" content=\"0;url=/about?x\"><title>",
    "</script><x-evil>s</x-evil><script>",
    "</style><x-evil>st</x-evil>",
    "</textarea><x-evil>ta</x-evil>",
    "\" x-evil-attr=\"1",
    "' x-evil-attr='1",
    "<svg onload=alert(1)><x-evil/></svg>",
    "javascript:alert(1)",
    "&lt;x-evil-escaped&gt;",
];

/// One start tag: its name and attributes (names lower case, values as written).
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// The start tags of `page` and its text outside them (script and style contents are raw text,
/// as a browser reads them): enough of HTML's tokenizer to see what markup a page holds.
fn tokenize(page: &str) -> (Vec<Tag>, String) {
    let bytes = page.as_bytes();
    let (mut tags, mut text) = (Vec::new(), String::new());
    let mut i = 0;
    while i < bytes.len() {
        let starts_tag = bytes[i] == b'<'
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/' || *b == b'!');
        if !starts_tag {
            let next = bytes[i + 1..]
                .iter()
                .position(|b| *b == b'<')
                .map_or(page.len(), |n| i + 1 + n);
            text.push_str(&page[i..next]);
            i = next;
            continue;
        }
        // To the tag's end, skipping quoted attribute values.
        let mut j = i + 1;
        let mut quote = None;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (None, b'"' | b'\'') => quote = Some(bytes[j]),
                (Some(q), b) if b == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        let inside = &page[i + 1..j.min(page.len())];
        i = j + 1;
        if inside.starts_with('/') || inside.starts_with('!') {
            continue;
        }
        let tag = parse_tag(inside);
        // Raw text elements end only at their own end tag.
        if tag.name == "script" || tag.name == "style" {
            let end = format!("</{}", tag.name);
            i = page[i.min(page.len())..]
                .to_ascii_lowercase()
                .find(&end)
                .map_or(page.len(), |n| i + n);
        }
        tags.push(tag);
    }
    (tags, text)
}

fn parse_tag(inside: &str) -> Tag {
    let inside = inside.trim_end_matches('/');
    let name_end = inside
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inside.len());
    let mut attributes = Vec::new();
    let mut rest = inside[name_end..].trim_start();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, remaining) = if let Some(q @ ('"' | '\'')) = after.chars().next() {
                let close = after[1..].find(q).map_or(after.len(), |n| n + 1);
                (&after[1..close], after.get(close + 1..).unwrap_or(""))
            } else {
                let close = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..close], &after[close..])
            };
            value = v.to_string();
            rest = remaining.trim_start();
        }
        if !name.is_empty() {
            attributes.push((name, value));
        }
    }
    Tag {
        name: inside[..name_end].to_ascii_lowercase(),
        attributes,
    }
}

/// Nothing in `page` came from the hostile strings as markup: no element, attribute, event
/// handler, `javascript:` address or refresh; and text that was already escaped shows as typed.
fn only_text(uri: &str, page: &str) {
    let (tags, text) = tokenize(page);
    for tag in &tags {
        assert!(
            !tag.name.starts_with("x-evil"),
            "{uri}: an element from the data: {tag:?}"
        );
        assert!(
            !(tag.name == "meta" && tag.attributes.iter().any(|(n, _)| n == "http-equiv")),
            "{uri}: a meta refresh from the data: {tag:?}"
        );
        for (name, value) in &tag.attributes {
            assert!(
                !name.starts_with("x-evil") && !name.starts_with("on"),
                "{uri}: an attribute from the data: {tag:?}"
            );
            assert!(
                !value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("javascript:"),
                "{uri}: a javascript: address: {tag:?}"
            );
        }
    }
    assert!(
        !text.contains("&lt;x-evil-escaped&gt;"),
        "{uri}: text that was already escaped lost its escaping"
    );
}

#[test]
fn the_tokenizer_sees_markup_and_only_markup() {
    let (tags, text) = tokenize(
        "<p title=\"a > b\" x-evil-attr='1'>x \" y-attr=\"2</p><script>\"</p><x-evil>\"</script><b>t</b>",
    );
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["p", "script", "b"]);
    assert_eq!(tags[0].attributes[1], ("x-evil-attr".into(), "1".into()));
    assert!(text.contains("x \" y-attr=\"2") && !text.contains("x-evil>"));
}

#[sqlx::test]
async fn hostile_metadata_is_text_on_every_page(pool: PgPool) {
    let app = app(pool.clone());
    let admin = token(&pool, "root", Role::Admin).await;
    let text = HOSTILE.join(" ");
    let key = |i: usize| format!("{i}{}", HOSTILE[i % HOSTILE.len()]);
    let records = [
        serde_json::json!({"type":"org_unit","source":"hr","id":"co","name": format!("Co {text}"), "description": text}),
        serde_json::json!({"type":"org_unit","source":"hr","id": key(1),"name": format!("=HYPERLINK(\"x\") Org {text}"),"parent":{"source":"hr","id":"co"}}),
        serde_json::json!({"type":"org_unit","source":"hr","id": key(2),"name": format!("Team {text}"),"parent":{"source":"hr","id": key(1)}}),
        serde_json::json!({"type":"asset","source":"git","id": key(3),"kind":"model_source","name": format!("Model {text}"),
            "description": text, "owner": {"source":"hr","id": key(2)}, "owners": [key(4)], "tags": {"t": HOSTILE[0], "k": HOSTILE[4]}}),
        serde_json::json!({"type":"asset","source":"ci","id": key(5),"kind":"workflow_run","name": format!("Run {text}"),"status":"succeeded",
            "started_at":"2026-10-01T00:00:00Z","ended_at":"2026-10-01T01:00:00Z"}),
        serde_json::json!({"type":"asset","source":"reg","id": key(6),"kind":"model_binary","name": format!("Binary {text}")}),
        serde_json::json!({"type":"asset","source":"deploy","id": key(7),"kind":"deployment","name": format!("Deployment {text}"),"status":"production"}),
        serde_json::json!({"type":"edge","from":{"source":"git","id": key(3)},"to":{"source":"ci","id": key(5)}}),
        serde_json::json!({"type":"edge","from":{"source":"ci","id": key(5)},"to":{"source":"reg","id": key(6)}}),
        serde_json::json!({"type":"edge","from":{"source":"reg","id": key(6)},"to":{"source":"deploy","id": key(7)}}),
        serde_json::json!({"type":"asset","source": HOSTILE[3],"id": key(8),"label": HOSTILE[1],"name": text}),
        serde_json::json!({"type":"asset","source":"git","id": key(0),"kind":"nonsense","name": text}),
    ];
    let body = records
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let (status, _, answer) = call(
        &app,
        post_records(Some(&admin), "application/x-ndjson", body),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    token(&pool, HOSTILE[5], Role::Viewer).await;
    let catalog = modelgov::server::metrics::catalog::load(None).unwrap();
    modelgov::server::metrics::recompute(&pool, &catalog)
        .await
        .unwrap();

    let path = |source: &str, id: &str| {
        format!(
            "{}/{}",
            modelgov::model::dashboard::encode(source),
            modelgov::model::dashboard::encode(id)
        )
    };
    let pages = [
        "/".to_string(),
        format!("/units/{}", path("hr", &key(1))),
        format!("/units/{}", path("hr", &key(2))),
        format!("/models/{}", path("git", &key(3))),
        "/metrics/lineage_completeness".into(),
        format!("/search?q={}", modelgov::model::dashboard::encode("Model")),
        "/units".into(),
        "/ingestion".into(),
        "/signin".into(),
        format!(
            "/no/such/{}",
            modelgov::model::dashboard::encode(HOSTILE[0])
        ),
    ];
    for uri in &pages {
        let (status, _, page) = get(&app, uri).await;
        assert!(
            status.is_success() || status == StatusCode::NOT_FOUND,
            "{uri}: {status}"
        );
        assert!(page.contains("<title>"), "{uri}");
        only_text(uri, &page);
    }
    // The title holds the name as text.
    let (_, _, page) = get(&app, &format!("/units/{}", path("hr", &key(1)))).await;
    let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
    assert!(title.contains("Org &lt;/title&gt;&lt;meta"), "{title}");

    // The admin page, signed in as an admin, with a token named like an attack.
    let (status, headers, answer) = call(
        &app,
        Request::post("/api/fn/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(format!("token={admin}")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, _, page) = call(
        &app,
        Request::get("/admin")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("x-evil-attr"),
        "the token's name is on the page"
    );
    only_text("/admin", &page);

    // CSV exports carry the text as data, never as a formula.
    let (status, _, csv) = get(&app, "/api/v1/export/rollups.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(
        !csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"),
        "{csv}"
    );
}
