//! Ingestion formats: one module per sender's wire format, each a pure parser from the request
//! body to [`AlertEvent`](super::AlertEvent)s.
