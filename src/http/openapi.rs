//! The OpenAPI document served at `/api/v1/openapi.json`.

/// The OpenAPI 3.1 document of the REST API, as JSON text.
pub fn document() -> String {
    String::from("{}")
}
