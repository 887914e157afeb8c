//! Store functions on both backends.

use tocsin::catalog::store;

use crate::support::{backends, seed_example};

#[tokio::test]
async fn example_round_trips_through_the_store() {
    for t in backends().await {
        seed_example(&t.db).await;
        let c = store::load(&t.db).await.unwrap();
        assert_eq!(c.services.len(), 16, "{}", t.backend);
        let impact = store::impact_of_service(&t.db, "inventory-db")
            .await
            .unwrap();
        let ids: Vec<_> = impact
            .business_functions
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["checkout", "product-search", "shipping"],
            "{}",
            t.backend
        );
    }
}
