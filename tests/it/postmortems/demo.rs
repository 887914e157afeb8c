//! The demo's history on both backends: ninety days of alerts and incidents through the real
//! paths, postmortems in every state, nothing left to send, written only once.

use tocsin::postmortems::store::library::{Search, search};

use super::t;
use crate::support::{backends, seed_example};

const DAY_MINUTES: i64 = 24 * 60;

#[tokio::test]
async fn the_demo_history_fills_the_library_once() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let now = t(100 * DAY_MINUTES);
        let made = tocsin::cli::seed_history(db, now).await.unwrap();
        assert!(made >= 20, "{made} incidents");
        let mut tx = db.begin_read().await.unwrap();
        let all = search(
            &mut tx,
            &Search {
                limit: 500,
                ..Search::default()
            },
        )
        .await
        .unwrap();
        let count = |status: &str| all.iter().filter(|h| h.status == status).count();
        assert_eq!((count("draft"), count("in_review")), (1, 1), "{all:?}");
        assert!(count("published") >= 5, "{all:?}");
        assert!(
            all.iter()
                .all(|h| h.started_at < now && h.started_at >= now - 91 * DAY_MINUTES * 60_000)
        );
        let closed = tocsin::incidents::store::list(
            &mut tx,
            &tocsin::incidents::store::Filter {
                status: Some(tocsin::incidents::Status::Closed),
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(closed.len(), count("published"), "publishing closed them");
        let pending = tocsin::incidents::store::delivery::counts(db)
            .await
            .unwrap();
        assert!(
            pending
                .iter()
                .all(|(status, n)| status == "sent" || *n == 0),
            "the history's messages are recorded, none left to go out: {pending:?}"
        );
        drop(tx);
        assert_eq!(tocsin::cli::seed_history(db, now).await.unwrap(), 0, "once");
    }
}
