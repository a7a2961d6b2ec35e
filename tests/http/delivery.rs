//! How responses travel: compressed when the client takes it, and a versioned browser bundle
//! served with its gzip twin and kept by browsers for good.

use super::*;

#[sqlx::test]
async fn pages_and_json_go_out_gzipped_to_clients_that_take_it(pool: PgPool) {
    let app = app(pool);
    for uri in ["/about", "/api/v1/catalog"] {
        let request = Request::get(uri)
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = call(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(
            headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            Some("gzip"),
            "{uri}"
        );
        let (_, plain, _) = get(&app, uri).await;
        assert!(plain.get(header::CONTENT_ENCODING).is_none(), "{uri}");
    }
}

#[sqlx::test]
async fn a_versioned_bundle_is_kept_for_good_and_sent_precompressed(pool: PgPool) {
    let site = std::env::temp_dir().join(format!("modelgov-site-{}", std::process::id()));
    let version = "0123abcd";
    let pkg = site.join("pkg").join(version);
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(site.join("pkg-version"), format!("{version}\n")).unwrap();
    std::fs::write(pkg.join("modelgov.js"), "export default 1;\n").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, b"export default 1;\n").unwrap();
    std::fs::write(pkg.join("modelgov.js.gz"), gz.finish().unwrap()).unwrap();
    // The release build adds a brotli twin (`brotli -q 11`); its bytes are opaque to the server.
    std::fs::write(pkg.join("modelgov.js.br"), b"brotli bytes").unwrap();
    let site_root = site.to_string_lossy().into_owned();
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://unused".into()),
        "MODELGOV_SITE_ROOT" => Some(site_root.clone()),
        _ => None,
    })
    .unwrap();
    let app = server::router(AppState::new(pool, config).unwrap());

    let request = Request::get(format!("/pkg/{version}/modelgov.js"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // A client taking both gets the smaller brotli twin; one taking neither, the file itself.
    let request = Request::get(format!("/pkg/{version}/modelgov.js"))
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(body, "brotli bytes");
    let (status, _, body) = get(&app, &format!("/pkg/{version}/modelgov.js")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "export default 1;\n")
    );
    // Pages name the bundle by its version.
    let (_, _, page) = get(&app, "/about").await;
    assert!(
        page.contains(&format!("/pkg/{version}/modelgov.css")),
        "{page}"
    );
    assert!(page.contains(&format!("/pkg/{version}/modelgov.js")));
    std::fs::remove_dir_all(&site).unwrap();
}
