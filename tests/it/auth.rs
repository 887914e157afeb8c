//! Accounts, sessions and API tokens in the store, on both backends, and the password and
//! secret hashing they rely on.
//!
//! Time is passed in explicitly (the store never reads the clock), so expiry and
//! `last_used_at` are checked at exact instants.

use tocsin::auth::store::{self, Account, Token};
use tocsin::auth::{Role, hash_password, hash_secret, new_secret, verify_password};
use tocsin::catalog::{Catalog, Kind};
use tocsin::db::{Db, StoreError};
use tocsin::people::Person;

use crate::support::backends;

fn account(username: &str, role: Role) -> Account {
    Account {
        username: username.into(),
        person_id: None,
        role,
        password_hash: format!("hash-of-{username}"),
    }
}

async fn upsert(db: &Db, a: &Account, at: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    store::upsert_account(&mut tx, a, at).await?;
    tx.commit().await
}

fn token(id: &str, name: &str, role: Role, created_at: i64) -> Token {
    Token {
        id: id.into(),
        name: name.into(),
        role,
        created_at,
        created_by: "admin".into(),
        revoked_at: None,
        last_used_at: None,
    }
}

async fn create_token(db: &Db, t: &Token, hash: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    store::create_token(&mut tx, t, hash).await?;
    tx.commit().await
}

async fn revoke(db: &Db, id: &str, at: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    store::revoke_token(&mut tx, id, at).await?;
    tx.commit().await
}

#[tokio::test]
async fn accounts_upsert_and_get() {
    for t in backends().await {
        let b = t.backend;
        assert_eq!(store::count_accounts(&t.db).await.unwrap(), 0, "{b}");
        let err = store::account(&t.db, "ann").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");

        let ann = account("ann", Role::Viewer);
        upsert(&t.db, &ann, 1).await.unwrap();
        upsert(&t.db, &account("bob", Role::Admin), 2)
            .await
            .unwrap();
        assert_eq!(store::account(&t.db, "ann").await.unwrap(), ann, "{b}");
        assert_eq!(store::count_accounts(&t.db).await.unwrap(), 2, "{b}");

        // Upsert replaces role, hash and person link, and does not add an account.
        let mut catalog = Catalog::default();
        catalog.people.push(Person {
            title: String::new(),
            id: "ann-p".into(),
            name: "Ann".into(),
            email: "ann@example.com".into(),
            time_zone: "UTC".into(),
            teams: vec![],
        });
        let mut tx = t.db.begin().await.unwrap();
        tocsin::catalog::store::upsert(&mut tx, &catalog, Kind::Person, "ann-p", false)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let changed = Account {
            person_id: Some("ann-p".into()),
            role: Role::Responder,
            password_hash: "new-hash".into(),
            ..ann.clone()
        };
        upsert(&t.db, &changed, 3).await.unwrap();
        assert_eq!(store::account(&t.db, "ann").await.unwrap(), changed, "{b}");
        assert_eq!(store::count_accounts(&t.db).await.unwrap(), 2, "{b}");

        // Deleting the person unlinks the account rather than deleting it.
        let mut tx = t.db.begin().await.unwrap();
        tocsin::catalog::store::delete(&mut tx, Kind::Person, "ann-p")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after = store::account(&t.db, "ann").await.unwrap();
        assert_eq!(after.person_id, None, "{b}");
        assert_eq!(after.role, Role::Responder, "{b}");

        // A link to a person who does not exist is refused as a conflict, not a 500.
        let dangling = Account {
            person_id: Some("nobody".into()),
            ..account("cat", Role::Viewer)
        };
        let err = upsert(&t.db, &dangling, 4).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        assert_eq!(store::count_accounts(&t.db).await.unwrap(), 2, "{b}");
    }
}

#[tokio::test]
async fn sessions_create_get_expire_delete() {
    for t in backends().await {
        let b = t.backend;
        upsert(&t.db, &account("ann", Role::Responder), 0)
            .await
            .unwrap();
        store::create_session(&t.db, "h1", "ann", "csrf1", 1_000, 5_000)
            .await
            .unwrap();
        store::create_session(&t.db, "h2", "ann", "csrf2", 1_000, 9_000)
            .await
            .unwrap();

        let live = store::session(&t.db, "h1", 4_999).await.unwrap();
        assert_eq!(live, ("ann".into(), Role::Responder, "csrf1".into()), "{b}");
        // Expiry is exclusive: at expires_at the session is already gone.
        let err = store::session(&t.db, "h1", 5_000).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
        let err = store::session(&t.db, "nope", 1_000).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");

        // The role comes from the account now, not from when the session began.
        upsert(&t.db, &account("ann", Role::Viewer), 0)
            .await
            .unwrap();
        let (_, role, _) = store::session(&t.db, "h2", 2_000).await.unwrap();
        assert_eq!(role, Role::Viewer, "{b}");

        // Logging out deletes one session only; deleting again is harmless.
        store::delete_session(&t.db, "h2").await.unwrap();
        store::delete_session(&t.db, "h2").await.unwrap();
        let err = store::session(&t.db, "h2", 2_000).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
        assert!(store::session(&t.db, "h1", 2_000).await.is_ok(), "{b}");

        // A reused id hash and an unknown user are conflicts.
        let err = store::create_session(&t.db, "h1", "ann", "x", 1, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        let err = store::create_session(&t.db, "h3", "ghost", "x", 1, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
    }
}

#[tokio::test]
async fn tokens_create_use_list_revoke() {
    for t in backends().await {
        let b = t.backend;
        let ci = token("id-ci", "ci", Role::Responder, 2_000);
        let grafana = token("id-grafana", "grafana", Role::Viewer, 1_000);
        create_token(&t.db, &ci, "hash-ci").await.unwrap();
        create_token(&t.db, &grafana, "hash-grafana").await.unwrap();

        // Listed oldest first, never used yet.
        assert_eq!(
            store::list_tokens(&t.db).await.unwrap(),
            [grafana.clone(), ci.clone()],
            "{b}"
        );

        // Use by hash returns who it is and stamps last_used_at, every time.
        let who = store::use_token(&t.db, "hash-ci", 5_000).await.unwrap();
        assert_eq!(who, ("ci".into(), Role::Responder), "{b}");
        store::use_token(&t.db, "hash-ci", 6_000).await.unwrap();
        let listed = store::list_tokens(&t.db).await.unwrap();
        assert_eq!(listed[1].last_used_at, Some(6_000), "{b}");
        assert_eq!(listed[0].last_used_at, None, "{b}");
        let err = store::use_token(&t.db, "hash-unknown", 6_000)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");

        // Revoked: listed as revoked, unusable, and not revocable twice.
        revoke(&t.db, "id-ci", 7_000).await.unwrap();
        let err = store::use_token(&t.db, "hash-ci", 8_000).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
        let listed = store::list_tokens(&t.db).await.unwrap();
        assert_eq!(
            listed[1],
            Token {
                revoked_at: Some(7_000),
                last_used_at: Some(6_000),
                ..ci.clone()
            },
            "{b}"
        );
        let err = revoke(&t.db, "id-ci", 9_000).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
        assert_eq!(
            store::list_tokens(&t.db).await.unwrap()[1].revoked_at,
            Some(7_000),
            "{b}: the first revocation time stays"
        );
        let err = revoke(&t.db, "id-ghost", 9_000).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
        // The other token is unaffected.
        assert!(store::use_token(&t.db, "hash-grafana", 9_000).await.is_ok());

        // Ids and hashes are unique.
        let err = create_token(&t.db, &token("id-ci", "again", Role::Viewer, 1), "hash-new")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        let err = create_token(&t.db, &token("id-new", "again", Role::Viewer, 1), "hash-ci")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        assert_eq!(store::list_tokens(&t.db).await.unwrap().len(), 2, "{b}");
    }
}

#[tokio::test]
async fn cli_token_is_stored_only_as_its_hash() {
    for t in backends().await {
        let b = t.backend;
        let (id, secret) =
            tocsin::auth::accounts::create_token(&t.db, "ci", Role::Admin, "root", 10)
                .await
                .unwrap();
        assert!(secret.starts_with("tcn_"), "{b}");
        // The secret itself does not authenticate as a stored hash; its SHA-256 does.
        assert!(store::use_token(&t.db, &secret, 11).await.is_err(), "{b}");
        let who = store::use_token(&t.db, &hash_secret(&secret), 11)
            .await
            .unwrap();
        assert_eq!(who, ("ci".into(), Role::Admin), "{b}");
        let listed = store::list_tokens(&t.db).await.unwrap();
        assert_eq!(listed[0].id, id, "{b}");
        // Creating a token is audited in the same transaction.
        let audit = tocsin::audit::store::list(&t.db, 10, None).await.unwrap();
        assert_eq!(audit[0].action, "token.create", "{b}");
        assert_eq!(audit[0].target, format!("token {id}"), "{b}");
    }
}

#[test]
fn password_hash_round_trip() {
    let phc = hash_password("correct horse battery staple").unwrap();
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(verify_password("correct horse battery staple", &phc));
    assert!(!verify_password("correct horse battery stapler", &phc));
    assert!(!verify_password("", &phc));
    // A fresh salt each time: equal passwords do not give equal hashes.
    assert_ne!(hash_password("correct horse battery staple").unwrap(), phc);
    // A malformed stored hash fails closed instead of panicking.
    assert!(!verify_password("anything", "not a phc string"));
    assert!(!verify_password("anything", ""));
}

#[test]
fn hash_secret_is_stable_sha256() {
    // Stored token hashes must survive upgrades: pin the function to SHA-256 hex.
    assert_eq!(
        hash_secret("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(hash_secret("tcn_x"), hash_secret("tcn_x"));
    assert_ne!(hash_secret("tcn_x"), hash_secret("tcn_y"));
}

#[test]
fn new_secrets_are_prefixed_and_distinct() {
    let a = new_secret("tcn_");
    let b = new_secret("tcn_");
    assert_eq!(a.len(), 4 + 64);
    assert!(a.starts_with("tcn_"));
    assert_ne!(a, b);
}
