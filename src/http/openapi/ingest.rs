//! The five ingestion endpoints in the OpenAPI document (`alerts::ingest`): what each sender
//! posts, the replies it gets (each format's own success and error shapes), and the integration
//! key as a security scheme. The wire bodies belong to other products, so their schemas are
//! written out here as JSON Schema (the fields Tocsin reads; extra fields are accepted) instead
//! of being derived from our types.

use serde_json::{Value, json};
use utoipa::PartialSchema;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Header, HttpMethod, ObjectBuilder, Ref, RefOr, ResponseBuilder, Schema, SecurityRequirement,
};

use super::{Doc, body, error, json as json_reply};

/// The security scheme of an integration key presented as a bearer token.
pub(super) const KEY: &str = "integration_key";
/// The same key as the password of Basic auth (Alertmanager's `basic_auth`).
pub(super) const KEY_BASIC: &str = "integration_key_basic";

/// The schemes for [`KEY`] and [`KEY_BASIC`].
pub(super) fn schemes() -> [(&'static str, SecurityScheme); 2] {
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "An integration key (`tocsin integration create`), of the endpoint's type. It \
             identifies the service the alerts are for.",
        ))
        .build();
    let basic = HttpBuilder::new()
        .scheme(HttpAuthScheme::Basic)
        .description(Some(
            "An integration key as the Basic-auth password (any user name).",
        ))
        .build();
    [
        (KEY, SecurityScheme::Http(bearer)),
        (KEY_BASIC, SecurityScheme::Http(basic)),
    ]
}

/// A JSON Schema written as JSON; an empty schema if it does not parse (a test reads it).
fn schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).unwrap_or_else(|e| {
        tracing::error!(error = %e, "ingestion schema does not parse");
        ObjectBuilder::new().into()
    })
}

/// Shared pieces of Alertmanager's alert objects.
fn labels() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

/// A 429 or 503 reply with `Retry-After`, in `body`'s shape.
fn retry_later(description: &str, body: impl Into<RefOr<Schema>>) -> ResponseBuilder {
    json_reply(description, body).header("Retry-After", Header::new(u64::schema()))
}

/// An ingestion operation: no role, an integration key of `kinds` instead.
fn ingest_op(id: &str, summary: &str, basic_too: bool) -> OperationBuilder {
    let mut keys = vec![SecurityRequirement::new(KEY, Vec::<String>::new())];
    if basic_too {
        keys.push(SecurityRequirement::new(KEY_BASIC, Vec::<String>::new()));
    }
    OperationBuilder::new()
        .tag("ingestion")
        .operation_id(Some(id))
        .summary(Some(summary))
        .description(Some(
            "Replies 2xx only after every alert of the request is committed. Over the \
             integration's rate limit (`ingest_events_per_minute`, `ingest_burst`; each alert \
             counts) the reply is 429 with `Retry-After` and nothing is stored.",
        ))
        .securities(Some(keys))
        .response("401", error("Unauthorized"))
        .response(
            "403",
            json_reply(
                "A key for another endpoint's type",
                Ref::from_schema_name("Error"),
            ),
        )
        .response("413", error("PayloadTooLarge"))
        .response(
            "429",
            retry_later(
                "Over the rate limit; retry after `Retry-After` seconds",
                Ref::from_schema_name("Error"),
            ),
        )
        .response(
            "503",
            retry_later(
                "Ingestion is saturated; retry after `Retry-After` seconds",
                Ref::from_schema_name("Error"),
            ),
        )
}

impl Doc {
    pub(super) fn ingestion(&mut self) {
        let alert = json!({"type": "object", "required": ["labels"], "properties": {
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "labels": labels(), "annotations": labels(),
            "startsAt": {"type": "string", "format": "date-time"},
            "endsAt": {"type": "string", "format": "date-time"},
            "generatorURL": {"type": "string"},
            "fingerprint": {"type": "string", "description": "The dedup key"}}});
        let webhook = |version: &str, what: &str| {
            schema(json!({"type": "object", "required": ["version", "alerts"],
                "description": what, "properties": {
                "version": {"type": "string", "enum": [version]},
                "status": {"type": "string"}, "receiver": {"type": "string"},
                "groupKey": {"type": "string"}, "commonLabels": labels(),
                "externalURL": {"type": "string"}, "alerts": {"type": "array", "items": alert}}}))
        };
        let stored = schema(json!({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "alerts": {"type": "array", "items": {"type": "object", "properties": {
                "alert": {"type": ["string", "null"], "description": "None when the event changed nothing"},
                "dedup_key": {"type": "string"}, "created": {"type": "boolean"}}}}}}));
        let stored = || {
            json_reply(
                "Stored: the alert each event created or updated",
                stored.clone(),
            )
        };
        let bad = || {
            json_reply(
                "Not a valid body; `error` says why",
                Ref::from_schema_name("Error"),
            )
        };

        let am = ingest_op(
            "ingest_alertmanager",
            "Prometheus Alertmanager webhook (`webhook_configs`)",
            true,
        )
        .request_body(Some(body(webhook(
            "4",
            "Alertmanager's webhook payload, version 4",
        ))))
        .response("200", stored())
        .response("400", bad());
        self.add(HttpMethod::Post, "/ingest/alertmanager", am);
        let grafana = ingest_op("ingest_grafana", "Grafana webhook contact point", true)
            .request_body(Some(body(webhook("1", "Grafana's webhook payload"))))
            .response("200", stored())
            .response("400", bad());
        self.add(HttpMethod::Post, "/ingest/grafana", grafana);
        let generic_body = schema(
            json!({"type": "object", "required": ["summary"], "properties": {
            "summary": {"type": "string"},
            "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
            "dedup_key": {"type": "string", "description": "Repeats fold into the open alert; a new key when missing"},
            "action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"], "default": "trigger"},
            "details": {"description": "Any JSON", "type": ["object", "array", "string", "number", "boolean", "null"]}}}),
        );
        let generic = ingest_op("ingest_generic", "One event in Tocsin's own JSON", true)
            .request_body(Some(body(generic_body)))
            .response("200", stored())
            .response("400", bad());
        self.add(HttpMethod::Post, "/ingest/generic", generic);
        let api_body = schema(json!({"type": "array", "items": alert,
            "description": "Alertmanager's `POST /api/v2/alerts` body; without endsAt an alert stays open 5 minutes unless re-sent"}));
        let api = ingest_op(
            "ingest_alertmanager_api",
            "Alertmanager's alert API, for senders that post to Alertmanager",
            true,
        )
        .request_body(Some(body(api_body)))
        .response(
            "200",
            ResponseBuilder::new().description("Stored (empty body, as Alertmanager answers)"),
        )
        .response(
            "400",
            json_reply("Not a valid body: a JSON string says why", String::schema()),
        );
        self.add(HttpMethod::Post, "/api/v2/alerts", api);

        let pd_error = schema(
            json!({"type": "object", "required": ["status", "message", "errors"], "properties": {
            "status": {"type": "string"}, "message": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "string"}}}}),
        );
        let pd_body = schema(
            json!({"type": "object", "required": ["routing_key", "event_action"], "properties": {
            "routing_key": {"type": "string", "description": "The integration key (32 characters)"},
            "event_action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"]},
            "dedup_key": {"type": "string", "maxLength": 255},
            "payload": {"type": "object", "required": ["summary", "source", "severity"], "properties": {
                "summary": {"type": "string", "maxLength": 1024}, "source": {"type": "string"},
                "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
                "timestamp": {"type": "string"}, "component": {"type": "string"},
                "group": {"type": "string"}, "class": {"type": "string"}, "custom_details": {"type": "object"}}},
            "links": {"type": "array"}, "images": {"type": "array"},
            "client": {"type": "string"}, "client_url": {"type": "string"}}}),
        );
        let pd_success = schema(json!({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "message": {"type": "string", "enum": ["Event processed"]},
            "dedup_key": {"type": "string"}}}));
        let pd = OperationBuilder::new()
            .tag("ingestion")
            .operation_id(Some("ingest_pagerduty"))
            .summary(Some(
                "PagerDuty Events API v2 (`routing_key` in the body is the key)",
            ))
            .description(Some(
                "PagerDuty's replies: 202 once committed, 400 for an invalid event or an unknown \
                 routing key, 429 with `Retry-After` over the integration's rate limit.",
            ))
            .request_body(Some(body(pd_body)))
            .response("202", json_reply("Stored", pd_success))
            .response(
                "400",
                json_reply(
                    "Invalid event, unrecognised body or unknown routing key",
                    pd_error.clone(),
                ),
            )
            .response("413", error("PayloadTooLarge"))
            .response(
                "429",
                retry_later("Request Limit Exceeded; nothing stored", pd_error.clone()),
            )
            .response("503", retry_later("Ingestion is saturated", pd_error));
        self.add(HttpMethod::Post, "/v2/enqueue", pd);
    }
}
