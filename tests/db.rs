//! Postgres-backed tests: each runs against its own fresh database with the migrations applied.

use modelgov::server::{demo, repo};
use sqlx::PgPool;

#[sqlx::test(fixtures("small_tree"))]
async fn tree_is_depth_first_with_sorted_siblings_and_subtree_counts(pool: PgPool) {
    let units = repo::org_units::list(&pool).await.unwrap();
    let rows: Vec<(&str, i32, i64, i64)> = units
        .iter()
        .map(|u| (u.name.as_str(), u.depth, u.children, u.model_sources))
        .collect();
    assert_eq!(
        rows,
        [
            ("Corp", 0, 2, 5),
            ("Alpha org", 1, 0, 1),
            ("Beta org", 1, 2, 4),
            ("Alpha team", 2, 0, 1),
            ("Zeta team", 2, 0, 2),
        ]
    );
    let zeta = units.iter().find(|u| u.name == "Zeta team").unwrap();
    assert_eq!(zeta.ancestors, ["Corp", "Beta org"]);
    assert_eq!(zeta.path(), "Corp › Beta org › Zeta team");
}

#[sqlx::test]
async fn an_empty_database_lists_no_units(pool: PgPool) {
    assert!(repo::org_units::list(&pool).await.unwrap().is_empty());
}

#[sqlx::test]
async fn demo_data_loads_once_and_a_second_load_changes_nothing(pool: PgPool) {
    let first = demo::load(&pool).await.unwrap();
    assert!(first > 0);
    let units = repo::org_units::list(&pool).await.unwrap();
    let second = demo::load(&pool).await.unwrap();
    assert_eq!(second, 0, "a replay must change nothing");
    assert_eq!(repo::org_units::list(&pool).await.unwrap(), units);

    let company = &units[0];
    assert_eq!((company.name.as_str(), company.depth), ("Acme", 0));
    assert!(
        units.iter().any(|u| u.depth >= 3),
        "the demo tree is several levels deep"
    );
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets WHERE kind = 'model_source' AND owner_unit_id IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(company.model_sources, owned);
    let unowned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assets WHERE owner_unit_id IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(unowned > 0, "the demo has a model nobody owns");
}

#[sqlx::test(fixtures("small_tree"))]
async fn the_external_key_is_unique(pool: PgPool) {
    let error = sqlx::query(
        "INSERT INTO org_units (source, external_id, name) VALUES ('hr', 'corp', 'Again')",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    let constraint = error.as_database_error().and_then(|e| e.constraint());
    assert_eq!(constraint, Some("org_units_external_key"));
}

#[sqlx::test(fixtures("small_tree"))]
async fn upserts_move_a_unit_and_its_counts(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    let moved = repo::org_units::upsert_many(
        &mut conn,
        &[repo::org_units::NewOrgUnit {
            source: "hr".into(),
            external_id: "zeta".into(),
            name: "Zeta team".into(),
            parent: Some(("hr".into(), "alpha".into())),
        }],
    )
    .await
    .unwrap();
    assert_eq!(moved, 1, "only the parent changed");
    let units = repo::org_units::list(&pool).await.unwrap();
    let count = |name: &str| units.iter().find(|u| u.name == name).unwrap().model_sources;
    assert_eq!(
        (count("Alpha org"), count("Beta org"), count("Corp")),
        (3, 2, 5)
    );
}
