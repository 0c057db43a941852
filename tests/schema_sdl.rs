//! `schema.graphql` is the exported SDL; it must equal `backlot schema`. `UPDATE_SCHEMA=1` rewrites it.

#[test]
fn schema_graphql_matches_the_served_schema() {
    let sdl = backlot::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(path, &sdl).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == sdl, "schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test --test schema_sdl`");
}
