//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, built with utoipa's builders.
//!
//! The thirty catalog CRUD operations come from one generic function over
//! [`Record`], the same trait the handlers are written over, so documenting a new kind is one
//! line. Error responses are shared components with the `{"error", "detail"}` body.

mod actions;
mod contacts;
mod incidents;
mod ingest;
mod postmortems;
mod reports;

use std::sync::LazyLock;

use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, Header, HttpMethod, InfoBuilder, ObjectBuilder, OpenApi,
    OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder, Schema, SecurityRequirement,
    ToArray, Type,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::audit::Entry;
use crate::audit::api::Page;
use crate::auth::Role;
use crate::auth::api::{CreatedToken, Me, NewToken};
use crate::auth::store::Token;
use crate::catalog::api::Record;
use crate::catalog::impact::{Impact, ServiceRef};
use crate::catalog::{BusinessFunction, Domain, Kind, Service, Tier};
use crate::escalation::EscalationPolicy;
use crate::oncall::Schedule;
use crate::people::{Person, Team};

const BEARER: &str = "bearer";
const JSON: &str = "application/json";

/// The errors the API answers with, as (status, component name, when).
const ERRORS: [(&str, &str, &str); 7] = [
    ("400", "BadRequest", "Malformed JSON, query string or path"),
    ("401", "Unauthorized", "No valid bearer token or session"),
    ("403", "Forbidden", "The caller's role is too low"),
    ("404", "NotFound", "No such record"),
    (
        "409",
        "Conflict",
        "The id exists, or other records still refer to this one",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is over the size limit (1 MiB by default)",
    ),
    (
        "422",
        "Unprocessable",
        "Well-formed JSON that is not a valid record; `detail` lists the problems",
    ),
];

/// The OpenAPI document of the REST API, as JSON text (built once).
pub fn document() -> String {
    static DOC: LazyLock<String> = LazyLock::new(|| {
        build().to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            String::from("{}")
        })
    });
    DOC.clone()
}

/// The OpenAPI document of the REST API.
pub fn build() -> OpenApi {
    let mut doc = Doc::default();
    doc.crud::<Tier>();
    doc.crud::<Team>();
    doc.crud::<Domain>();
    doc.crud::<Person>();
    doc.crud::<Schedule>();
    doc.crud::<crate::severity::SeverityLevel>();
    doc.crud::<EscalationPolicy>();
    doc.crud::<BusinessFunction>();
    doc.crud::<Service>();
    doc.crud::<crate::catalog::Playbook>();
    doc.crud::<crate::catalog::AlertRule>();
    doc.crud::<crate::slo::Slo>();
    doc.queries();
    doc.admin();
    doc.oncall();
    doc.alerts();
    doc.contacts();
    doc.automation();
    doc.ingestion();
    doc.incidents();
    doc.postmortems();
    doc.actions();
    doc.reports();

    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(doc.schemas)
        .schema("Error", error_schema())
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`tocsin token create` or POST /api/v1/tokens). \
                         A browser session cookie also works; its writes need the X-CSRF-Token header.",
                    ))
                    .build(),
            ),
        );
    for (name, scheme) in ingest::schemes() {
        components = components.security_scheme(name, scheme);
    }
    for (_, name, when) in ERRORS {
        let response = ResponseBuilder::new()
            .description(when)
            .content(JSON, Content::new(Some(Ref::from_schema_name("Error"))));
        components = components.response(name, response);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tocsin API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Incident management: the service catalog, its impact analysis, the audit \
                     log and API tokens. Reads need the viewer role, writes the admin role.",
                )),
        )
        .paths(doc.paths)
        .components(Some(components.build()))
        .build()
}

/// The document under construction: paths, and the schemas they refer to.
#[derive(Default)]
struct Doc {
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Doc {
    /// Registers `T` and every schema it refers to; returns a reference to it.
    fn schema<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name().into_owned();
        self.schemas.push((name.clone(), T::schema()));
        T::schemas(&mut self.schemas);
        Ref::from_schema_name(name).into()
    }

    fn add(&mut self, method: HttpMethod, path: &str, op: OperationBuilder) {
        self.paths.add_path_operation(path, vec![method], op);
    }

    /// List, create, read, replace and delete for one kind.
    fn crud<T: Record>(&mut self) {
        let record = self.schema::<T>();
        let (tag, noun) = (T::PATH, T::KIND.noun().replace(' ', "_"));
        let collection = format!("/api/v1/{tag}");
        let item = format!("/api/v1/{tag}/{{id}}");
        let id = if T::KIND == Kind::Tier {
            path_param("id", u8::schema(), "The tier's level")
        } else {
            path_param("id", String::schema(), "The record's id")
        };
        let list = op(tag, &format!("list_{tag}"), Role::Viewer)
            .summary(Some(format!("List every {}", T::KIND.noun())))
            .parameters(Some(T::Filter::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("The records, by id", record.clone().to_array()))
            .response("400", error("BadRequest"));
        self.add(HttpMethod::Get, &collection, list);
        let create = op(tag, &format!("create_{noun}"), Role::Admin)
            .summary(Some(format!("Create a {}", T::KIND.noun())))
            .request_body(Some(body(record.clone())))
            .response(
                "201",
                json("Created", record.clone()).header("Location", Header::new(String::schema())),
            );
        self.add(HttpMethod::Post, &collection, writes(create, &["409"]));
        let read = op(tag, &format!("get_{noun}"), Role::Viewer)
            .summary(Some(format!("Read a {}", T::KIND.noun())))
            .parameter(id.clone())
            .response("200", json("The record", record.clone()))
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, &item, read);
        let replace = op(tag, &format!("replace_{noun}"), Role::Admin)
            .summary(Some(format!(
                "Replace a {} (the body's id must be the URL's)",
                T::KIND.noun()
            )))
            .parameter(id.clone())
            .request_body(Some(body(record.clone())))
            .response("200", json("Replaced", record));
        self.add(HttpMethod::Put, &item, writes(replace, &["404"]));
        let delete = op(tag, &format!("delete_{noun}"), Role::Admin)
            .summary(Some(format!(
                "Delete a {} that nothing refers to",
                T::KIND.noun()
            )))
            .parameter(id)
            .response("204", ResponseBuilder::new().description("Deleted"))
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"))
            .response("409", error("Conflict"));
        self.add(HttpMethod::Delete, &item, delete);
    }

    /// The impact analysis queries.
    fn queries(&mut self) {
        let impact = self.schema::<Impact>();
        let service_ref = self.schema::<ServiceRef>();
        let op_impact = op("services", "service_impact", Role::Viewer)
            .summary(Some(
                "What fails with a service: dependent services and business functions",
            ))
            .parameter(path_param("id", String::schema(), "The service's id"))
            .response("200", json("The impact", impact))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/services/{id}/impact", op_impact);
        let deps = op("business-functions", "function_dependencies", Role::Viewer)
            .summary(Some("Every service a business function relies on"))
            .parameter(path_param(
                "id",
                String::schema(),
                "The business function's id",
            ))
            .response(
                "200",
                json("The services, nearest first", service_ref.to_array()),
            )
            .response("404", error("NotFound"));
        self.add(
            HttpMethod::Get,
            "/api/v1/business-functions/{id}/dependencies",
            deps,
        );
    }

    /// Audit log, tokens, the caller and this document.
    fn admin(&mut self) {
        let entry = self.schema::<Entry>();
        let audit = op("audit", "list_audit", Role::Admin)
            .summary(Some("Audit log entries, newest first"))
            .parameters(Some(Page::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("The entries", entry.to_array()))
            .response("400", error("BadRequest"));
        self.add(HttpMethod::Get, "/api/v1/audit", audit);

        let token = self.schema::<Token>();
        let list = op("tokens", "list_tokens", Role::Admin)
            .summary(Some(
                "Every API token, revoked ones included (never their secrets)",
            ))
            .response("200", json("The tokens", token.to_array()));
        self.add(HttpMethod::Get, "/api/v1/tokens", list);
        let new_token = self.schema::<NewToken>();
        let created = self.schema::<CreatedToken>();
        let create = op("tokens", "create_token", Role::Admin)
            .summary(Some("Create a token; its secret is in this response only"))
            .request_body(Some(body(new_token)))
            .response("201", json("Created", created));
        self.add(HttpMethod::Post, "/api/v1/tokens", writes(create, &[]));
        let revoke = op("tokens", "revoke_token", Role::Admin)
            .summary(Some("Revoke a token"))
            .parameter(path_param("id", String::schema(), "The token's id"))
            .response("204", ResponseBuilder::new().description("Revoked"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Delete, "/api/v1/tokens/{id}", revoke);

        let me = self.schema::<Me>();
        let who = op("auth", "me", Role::Viewer)
            .summary(Some("The caller's name and role"))
            .response("200", json("The caller", me));
        self.add(HttpMethod::Get, "/api/v1/me", who);

        let spec = OperationBuilder::new()
            .tag("meta")
            .operation_id(Some("openapi"))
            .summary(Some("This document (no authentication)"))
            .response(
                "200",
                ResponseBuilder::new().description("OpenAPI 3.1 JSON"),
            );
        self.add(HttpMethod::Get, "/api/v1/openapi.json", spec);
    }
}

/// An operation that needs `role`, with the errors any authenticated call can get.
fn op(tag: &str, id: &str, role: Role) -> OperationBuilder {
    let op = OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(id))
        .description(Some(format!("Needs the {} role.", role.as_str())))
        .security(SecurityRequirement::new(BEARER, Vec::<String>::new()))
        .response("401", error("Unauthorized"));
    if role > Role::Viewer {
        op.response("403", error("Forbidden"))
    } else {
        op
    }
}

/// Adds the errors of an operation with a JSON body, plus `more` of its own.
fn writes(op: OperationBuilder, more: &[&str]) -> OperationBuilder {
    let codes = ["400", "413", "422"].iter().chain(more);
    codes.fold(op, |op, code| {
        let name = ERRORS
            .iter()
            .find(|(c, _, _)| c == code)
            .map_or("BadRequest", |(_, name, _)| name);
        op.response(*code, error(name))
    })
}

fn error(name: &str) -> Ref {
    Ref::from_response_name(name)
}

fn json(description: &str, schema: impl Into<RefOr<Schema>>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(JSON, Content::new(Some(schema)))
}

fn body(schema: RefOr<Schema>) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(JSON, Content::new(Some(schema)))
        .build()
}

fn path_param(
    name: &str,
    schema: RefOr<Schema>,
    description: &str,
) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// `{"error": "...", "detail": ...}`, what `AppError` answers with.
fn error_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What went wrong, for people")),
        )
        .required("error")
        .property(
            "detail",
            ObjectBuilder::new().description(Some(
                "More structure when there is some: for a 422, the list of problems \
                 ({kind, id, field, message})",
            )),
        )
}

/// On call: overrides, shifts and who is on call (`oncall::api`).
impl Doc {
    fn oncall(&mut self) {
        use crate::oncall::api::{OnCallAnswer, OnCallQuery, OverrideBody, Range};
        use crate::oncall::{Override, Shift};

        let record = self.schema::<Override>();
        let schedule = || path_param("id", String::schema(), "The schedule's id");
        let list = op("oncall", "list_overrides", Role::Viewer)
            .summary(Some(
                "A schedule's overrides overlapping [from, to) (default: current and upcoming)",
            ))
            .parameter(schedule())
            .parameters(Some(Range::into_params(|| Some(ParameterIn::Query))))
            .response(
                "200",
                json("The overrides, by start", record.clone().to_array()),
            )
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"))
            .response("422", error("Unprocessable"));
        self.add(HttpMethod::Get, "/api/v1/schedules/{id}/overrides", list);
        let new = self.schema::<OverrideBody>();
        let create = op("oncall", "create_override", Role::Responder)
            .summary(Some(
                "Put someone on call for a time range (at most a year, not in the past)",
            ))
            .parameter(schedule())
            .request_body(Some(body(new)))
            .response("201", json("Created", record));
        self.add(
            HttpMethod::Post,
            "/api/v1/schedules/{id}/overrides",
            writes(create, &["404"]),
        );
        let remove = op("oncall", "delete_override", Role::Responder)
            .summary(Some("Remove an override"))
            .parameter(path_param("id", String::schema(), "The override's id"))
            .response("204", ResponseBuilder::new().description("Removed"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Delete, "/api/v1/overrides/{id}", remove);

        let shift = self.schema::<Shift>();
        let shifts = op("oncall", "list_shifts", Role::Viewer)
            .summary(Some(
                "Who is on call over [from, to) (default: a week from now; at most a year)",
            ))
            .parameter(schedule())
            .parameters(Some(Range::into_params(|| Some(ParameterIn::Query))))
            .response(
                "200",
                json("Contiguous shifts; person null is a gap", shift.to_array()),
            )
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"))
            .response("422", error("Unprocessable"));
        self.add(HttpMethod::Get, "/api/v1/schedules/{id}/shifts", shifts);

        let answer = self.schema::<OnCallAnswer>();
        let now = op("oncall", "on_call", Role::Viewer)
            .summary(Some(
                "Who is on call at an instant (default now), per schedule; with service, who it pages",
            ))
            .parameters(Some(OnCallQuery::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("On call", answer))
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/oncall", now);
    }
}

/// Alerts and integration keys (`alerts::api`).
impl Doc {
    /// The one-click run of a playbook action (the rules and playbooks are `crud` kinds).
    fn automation(&mut self) {
        use crate::alerts::automation::RunResult;
        let result = self.schema::<RunResult>();
        let run = op("alerts", "run_playbook_action", Role::Responder)
            .summary(Some(
                "Run step `step` (from 1) of the alert's playbook, an action, now; logged on the alert",
            ))
            .parameter(path_param("id", String::schema(), "The alert's id"))
            .parameter(path_param("step", String::schema(), "The step's number, from 1"))
            .response("200", json("What the call did", result))
            .response("404", error("NotFound"))
            .response("422", error("Unprocessable"));
        self.add(
            HttpMethod::Post,
            "/api/v1/alerts/{id}/actions/{step}/run",
            run,
        );
    }

    fn alerts(&mut self) {
        use crate::alerts::api::{AlertDetail, AlertQuery, IntegrationKey, NewIntegration};
        use crate::alerts::integration::Integration;
        use crate::alerts::lifecycle::Alert;

        let alert = self.schema::<Alert>();
        let list = op("alerts", "list_alerts", Role::Viewer)
            .summary(Some(
                "Alerts, newest first (at most 500; page with `before`)",
            ))
            .parameters(Some(AlertQuery::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("The alerts", alert.clone().to_array()))
            .response("400", error("BadRequest"));
        self.add(HttpMethod::Get, "/api/v1/alerts", list);
        let id = || path_param("id", String::schema(), "The alert's id");
        let detail = self.schema::<AlertDetail>();
        let read = op("alerts", "get_alert", Role::Viewer)
            .summary(Some("An alert with its full event log"))
            .parameter(id())
            .response("200", json("The alert", detail))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/alerts/{id}", read);
        for (verb, what) in [
            ("acknowledge", "Acknowledge (again: no change)"),
            ("resolve", "Resolve"),
        ] {
            let act = op("alerts", &format!("{verb}_alert"), Role::Responder)
                .summary(Some(format!(
                    "{what} an alert; 409 when it is already resolved"
                )))
                .parameter(id())
                .response("200", json("The alert afterwards", alert.clone()))
                .response("404", error("NotFound"))
                .response("409", error("Conflict"));
            self.add(
                HttpMethod::Post,
                &format!("/api/v1/alerts/{{id}}/{verb}"),
                act,
            );
        }

        let integration = self.schema::<Integration>();
        let keyed = self.schema::<IntegrationKey>();
        let service = || path_param("id", String::schema(), "The service's id");
        let collection = "/api/v1/services/{id}/integrations";
        let list = op("integrations", "list_integrations", Role::Admin)
            .summary(Some("A service's integrations (never their keys)"))
            .parameter(service())
            .response("200", json("The integrations", integration.to_array()))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, collection, list);
        let new = self.schema::<NewIntegration>();
        let create = op("integrations", "create_integration", Role::Admin)
            .summary(Some(
                "Create an integration; its key is in this response only",
            ))
            .parameter(service())
            .request_body(Some(body(new)))
            .response("201", json("Created", keyed.clone()));
        self.add(HttpMethod::Post, collection, writes(create, &["404"]));
        let integration_id = || path_param("id", String::schema(), "The integration's id");
        let rotate = op("integrations", "rotate_integration", Role::Admin)
            .summary(Some("Replace the key; the old one stops working at once"))
            .parameter(integration_id())
            .response("200", json("The new key", keyed))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Post, "/api/v1/integrations/{id}/rotate", rotate);
        let remove = op("integrations", "delete_integration", Role::Admin)
            .summary(Some("Delete an integration (its alerts stay)"))
            .parameter(integration_id())
            .response("204", ResponseBuilder::new().description("Deleted"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Delete, "/api/v1/integrations/{id}", remove);
    }
}
