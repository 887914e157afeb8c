//! Contact methods and notification rules on both backends: create with validation, list,
//! verify, rules only on the person's own methods, cascade on delete.

use tocsin::db::StoreError;
use tocsin::notify;
use tocsin::notify::contact::{self, ContactError, ContactKind};

use super::now;
use crate::support::{backends, seed_example};

#[tokio::test]
async fn contact_store_crud_on_both_backends() {
    for t in backends().await {
        let db = &t.db;
        seed_example(db).await;
        let b = t.backend;
        let hook = contact::add_method(
            db,
            now(),
            "test",
            "jon-doe",
            ContactKind::Webhook,
            " https://hooks.example/p ",
        )
        .await
        .expect("webhook");
        assert_eq!(hook.target, "https://hooks.example/p", "{b}");
        assert!(
            hook.secret
                .as_deref()
                .is_some_and(|s| s.starts_with("tcn_whsec_")),
            "{b}"
        );
        let chat = contact::add_method(
            db,
            now() + 1,
            "test",
            "jon-doe",
            ContactKind::Slack,
            "https://hooks.slack.com/services/T/B/X",
        )
        .await
        .expect("slack");
        assert_eq!(chat.secret, None, "{b}");
        let mail = contact::add_method(
            db,
            now() + 2,
            "test",
            "jon-doe",
            ContactKind::Email,
            "jon.doe@shop.example",
        )
        .await
        .expect("email");
        let theirs = contact::add_method(
            db,
            now(),
            "test",
            "foo-bar",
            ContactKind::Email,
            "foo.bar@shop.example",
        )
        .await
        .expect("email");

        let invalid = contact::add_method(
            db,
            now(),
            "test",
            "jon-doe",
            ContactKind::Slack,
            "hooks.slack.com",
        )
        .await;
        assert!(
            matches!(invalid, Err(ContactError::Invalid(_))),
            "{b}: {invalid:?}"
        );
        let nobody =
            contact::add_method(db, now(), "test", "nobody", ContactKind::Email, "x@y.z").await;
        assert!(
            matches!(nobody, Err(ContactError::Store(StoreError::Conflict(_)))),
            "{b}: {nobody:?}"
        );

        let listed = notify::store::list_methods(db, "jon-doe")
            .await
            .expect("list");
        assert_eq!(listed, [hook.clone(), chat.clone(), mail.clone()], "{b}");
        assert_eq!(
            notify::store::get_method(db, &hook.id).await.expect("get"),
            hook,
            "{b}"
        );
        notify::store::mark_verified(db, &chat.id, now() + 5)
            .await
            .expect("verify");
        let got = notify::store::get_method(db, &chat.id).await.expect("get");
        assert_eq!(got.verified_at, Some(now() + 5), "{b}");

        // Chat at once, email after 2 minutes.
        let r_chat = contact::add_rule(db, now(), "test", "jon-doe", &chat.id, 0)
            .await
            .expect("rule");
        let r_mail = contact::add_rule(db, now(), "test", "jon-doe", &mail.id, 2)
            .await
            .expect("rule");
        let rules = notify::store::list_rules(db, "jon-doe")
            .await
            .expect("rules");
        assert_eq!(rules, [r_chat.clone(), r_mail.clone()], "{b}");
        assert_eq!(contact::due_channels(&rules, 1), [chat.id.as_str()], "{b}");
        assert_eq!(
            contact::due_channels(&rules, 2),
            [chat.id.as_str(), mail.id.as_str()],
            "{b}"
        );

        let dup = contact::add_rule(db, now(), "test", "jon-doe", &chat.id, 0).await;
        assert!(
            matches!(dup, Err(ContactError::Store(StoreError::Conflict(_)))),
            "{b}: {dup:?}"
        );
        let foreign = contact::add_rule(db, now(), "test", "jon-doe", &theirs.id, 0).await;
        assert!(
            matches!(foreign, Err(ContactError::Store(StoreError::NotFound))),
            "{b}: {foreign:?}"
        );
        let late = contact::add_rule(db, now(), "test", "jon-doe", &chat.id, 24 * 60 + 1).await;
        assert!(
            matches!(late, Err(ContactError::Invalid(_))),
            "{b}: {late:?}"
        );

        contact::remove_rule(db, now(), "test", &r_mail.id)
            .await
            .expect("remove rule");
        assert!(matches!(
            contact::remove_rule(db, now(), "test", &r_mail.id).await,
            Err(StoreError::NotFound)
        ));
        // Removing a method takes its rules with it.
        contact::remove_method(db, now(), "test", &chat.id)
            .await
            .expect("remove method");
        assert!(
            notify::store::list_rules(db, "jon-doe")
                .await
                .expect("rules")
                .is_empty(),
            "{b}"
        );
        assert!(matches!(
            notify::store::get_method(db, &chat.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            notify::store::mark_verified(db, &chat.id, 1).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            notify::store::list_methods(db, "jon-doe")
                .await
                .expect("list")
                .len(),
            2,
            "{b}"
        );
    }
}
