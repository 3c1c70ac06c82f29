use sea_orm::{ConnectionTrait, Statement};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings, stderr};

fn create_key(db: &TestDb, name: &str, scopes: &str) -> String {
    let output = db.cli(&["keys", "create", "--name", name, "--scopes", scopes]);
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn keys_authenticate_until_revoked_and_are_stored_hashed(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.no_public_read = true;
    let app = TestApp::spawn(config).await;
    let path = "/v1/techniques/foam-rolling";
    assert_eq!(app.get(path).await.status(), 401, "public read is off");

    let key = create_key(&db, "storefront", "read");
    assert!(key.starts_with("salve_") && key.len() > 40, "{key}");
    assert_eq!(app.get_with_key(path, &key).await.status(), 200);

    let stored = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT name, prefix, key_hash, scopes FROM api_keys",
        ))
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let hash: String = stored[0].try_get("", "key_hash").unwrap();
    let prefix: String = stored[0].try_get("", "prefix").unwrap();
    assert_ne!(hash, key);
    assert!(
        !hash.contains(&key[prefix.len() + 1..]),
        "the secret part is not stored"
    );
    assert_eq!(hash.len(), 64);

    let listed = db.cli(&["keys", "list"]);
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(listing.contains("storefront") && !listing.contains(&key));

    // A key with the right prefix but a wrong secret is rejected.
    let forged = format!("{}_{}", prefix, "x".repeat(32));
    assert_eq!(app.get_with_key(path, &forged).await.status(), 401);

    let revoke = db.cli(&["keys", "revoke", "storefront"]);
    assert!(revoke.status.success(), "{}", stderr(&revoke));
    assert_eq!(app.get_with_key(path, &key).await.status(), 401);
}

async fn preview_keys_see_drafts_and_read_keys_do_not(engine: Engine) {
    let db = TestDb::new(engine).await;
    let app = TestApp::spawn(settings(&db.url)).await;
    let dir = db.dir().join("drafts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("benefits.ndjson"),
        r#"{"slug":"unreviewed-claim","name":"Cures everything","status":"draft"}"#,
    )
    .unwrap();
    assert!(db.cli(&["import", dir.to_str().unwrap()]).status.success());

    let read = create_key(&db, "reader", "read");
    let preview = create_key(&db, "editor", "preview");
    let path = "/v1/benefits/unreviewed-claim";
    assert_eq!(app.get(path).await.status(), 404);
    assert_eq!(app.get_with_key(path, &read).await.status(), 404);
    assert_eq!(app.get_with_key(path, &preview).await.status(), 200);
}

async fn key_creation_rejects_bad_input(engine: Engine) {
    let db = TestDb::new(engine).await;
    create_key(&db, "dup", "read");
    for (args, message) in [
        (vec!["--name", "dup", "--scopes", "read"], "already exists"),
        (
            vec!["--name", "x", "--scopes", "read,owner"],
            "unknown scope",
        ),
        (vec!["--name", "bad name!", "--scopes", "read"], "key name"),
    ] {
        let mut full = vec!["keys", "create"];
        full.extend(args);
        let output = db.cli(&full);
        assert!(!output.status.success());
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
}

engine_tests!(
    keys_authenticate_until_revoked_and_are_stored_hashed,
    preview_keys_see_drafts_and_read_keys_do_not,
    key_creation_rejects_bad_input,
);
