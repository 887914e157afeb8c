//! The incident endpoints in the OpenAPI document (`incidents::api`). Most are a command with
//! a small JSON body on one incident, so they are listed as a table: path, method, operation,
//! summary, body and reply.

use utoipa::openapi::path::{OperationBuilder, ParameterIn};
use utoipa::openapi::{HttpMethod, RefOr, ResponseBuilder, Schema, ToArray};
use utoipa::{IntoParams, PartialSchema};

use crate::auth::Role;
use crate::incidents::api::{
    AlertBody, ChannelBody, DocQuery, IncidentDetail, IncidentQuery, PersonBody, RoleBody,
    ServiceBody, SeverityBody, StarBody, StatusBody, SuggestQuery, SuggestionBody, SummaryBody,
    TeamBody, TeamPaged, TimelineQuery,
};
use crate::incidents::command::{Declaration, NewNote, NewUpdate};
use crate::incidents::{Entry, Incident, Subscriber, Update};

use super::{Doc, body, error, json, op, path_param, writes};

const TAG: &str = "incidents";

/// One command endpoint: method, path after the incident, operation id, summary, request
/// body, success code and reply.
type Command = (
    HttpMethod,
    &'static str,
    &'static str,
    &'static str,
    RefOr<Schema>,
    &'static str,
    RefOr<Schema>,
);

fn id() -> utoipa::openapi::path::Parameter {
    path_param("id", i64::schema(), "The incident's number (12 for INC-12)")
}

impl Doc {
    pub(super) fn incidents(&mut self) {
        let incident = self.schema::<Incident>();
        let detail = self.schema::<IncidentDetail>();
        let list = op(TAG, "list_incidents", Role::Viewer)
            .summary(Some("Incidents, open ones first, then newest first"))
            .parameters(Some(IncidentQuery::into_params(|| {
                Some(ParameterIn::Query)
            })))
            .response("200", json("The incidents", incident.clone().to_array()))
            .response("400", error("BadRequest"));
        self.add(HttpMethod::Get, "/api/v1/incidents", list);
        let declaration = self.schema::<Declaration>();
        let declare = op(TAG, "declare_incident", Role::Responder)
            .summary(Some(
                "Declare an incident: impacted functions computed, first IC assigned, announced",
            ))
            .request_body(Some(body(declaration)))
            .response("201", json("Declared", detail.clone()));
        self.add(HttpMethod::Post, "/api/v1/incidents", writes(declare, &[]));
        let suggestion = self.schema::<SuggestionBody>();
        let suggest = op(TAG, "suggest_severity", Role::Viewer)
            .summary(Some(
                "The severity Tocsin suggests for services and an alert severity",
            ))
            .parameters(Some(SuggestQuery::into_params(|| Some(ParameterIn::Query))))
            .response(
                "200",
                json("The suggestion and the impacted functions", suggestion),
            )
            .response("400", error("BadRequest"))
            .response("422", error("Unprocessable"));
        self.add(HttpMethod::Get, "/api/v1/incidents/suggest", suggest);
        let read = op(TAG, "get_incident", Role::Viewer)
            .summary(Some(
                "An incident with roles, timeline, updates, metrics and messages",
            ))
            .parameter(id())
            .response("200", json("The incident", detail))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/incidents/{id}", read);
        let doc = op(TAG, "incident_document", Role::Viewer)
            .summary(Some("The living incident document as Markdown"))
            .parameter(id())
            .parameters(Some(DocQuery::into_params(|| Some(ParameterIn::Query))))
            .response(
                "200",
                ResponseBuilder::new().description("text/markdown").content(
                    "text/markdown",
                    utoipa::openapi::Content::new(Some(String::schema())),
                ),
            )
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/incidents/{id}/document.md", doc);
        let entry = self.schema::<Entry>();
        let timeline = op(TAG, "incident_timeline", Role::Viewer)
            .summary(Some("Timeline entries, oldest first"))
            .parameter(id())
            .parameters(Some(TimelineQuery::into_params(|| {
                Some(ParameterIn::Query)
            })))
            .response("200", json("The entries", entry.clone().to_array()))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/incidents/{id}/timeline", timeline);

        let (team_paged, update) = (self.schema::<TeamPaged>(), self.schema::<Update>());
        let commands: [Command; 15] = [
            (
                HttpMethod::Post,
                "/status",
                "set_incident_status",
                "Change the status (closing is the postmortem's)",
                self.schema::<StatusBody>(),
                "200",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/severity",
                "set_incident_severity",
                "Change the severity",
                self.schema::<SeverityBody>(),
                "200",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/summary",
                "set_incident_summary",
                "Replace the current understanding",
                self.schema::<SummaryBody>(),
                "200",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/roles",
                "assign_incident_role",
                "Assign or hand over a role, with a note",
                self.schema::<RoleBody>(),
                "200",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/timeline",
                "add_timeline_entry",
                "Write a note, finding, decision, question, link or chat entry",
                self.schema::<NewNote>(),
                "201",
                entry.clone(),
            ),
            (
                HttpMethod::Post,
                "/updates",
                "post_incident_update",
                "Post a stakeholder update (sent to the channel and subscribers)",
                self.schema::<NewUpdate>(),
                "201",
                update,
            ),
            (
                HttpMethod::Post,
                "/teams",
                "add_incident_team",
                "Pull a team in: paged through its escalation policy",
                self.schema::<TeamBody>(),
                "201",
                team_paged,
            ),
            (
                HttpMethod::Post,
                "/investigators",
                "add_incident_investigator",
                "Add an investigator",
                self.schema::<PersonBody>(),
                "201",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/alerts",
                "attach_incident_alert",
                "Attach an alert (and its service)",
                self.schema::<AlertBody>(),
                "201",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/services",
                "add_incident_service",
                "Attach a service",
                self.schema::<ServiceBody>(),
                "201",
                incident.clone(),
            ),
            (
                HttpMethod::Put,
                "/channel",
                "set_incident_channel",
                "Set or remove the chat channel's incoming webhook",
                self.schema::<ChannelBody>(),
                "200",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/subscribers",
                "subscribe_to_incident",
                "Subscribe a person, team, email or webhook",
                self.schema::<Subscriber>(),
                "201",
                incident.clone(),
            ),
            (
                HttpMethod::Delete,
                "/subscribers",
                "unsubscribe_from_incident",
                "Remove a subscriber",
                self.schema::<Subscriber>(),
                "204",
                incident.clone(),
            ),
            (
                HttpMethod::Post,
                "/timeline/{entry}/star",
                "star_timeline_entry",
                "Star or unstar a timeline entry",
                self.schema::<StarBody>(),
                "200",
                entry,
            ),
            (
                HttpMethod::Delete,
                "/roles/{role}",
                "step_down_from_role",
                "End the current holder's stint",
                self.schema::<StarBody>(),
                "200",
                incident,
            ),
        ];
        for (method, suffix, operation, summary, request, code, reply) in commands {
            let mut o: OperationBuilder = op(TAG, operation, Role::Responder)
                .summary(Some(summary))
                .parameter(id())
                .response("404", error("NotFound"))
                .response("409", error("Conflict"));
            if suffix.contains("{entry}") {
                o = o.parameter(path_param("entry", i64::schema(), "The entry's id"));
            }
            if suffix.contains("{role}") {
                o = o
                    .parameter(path_param(
                        "role",
                        String::schema(),
                        "commander, ops or comms",
                    ))
                    .response("400", error("BadRequest"));
            } else {
                o = writes(o.request_body(Some(body(request))), &[]);
            }
            o = match code {
                "204" => o.response(code, ResponseBuilder::new().description("Done")),
                "201"
                    if operation.ends_with("investigator")
                        || operation.ends_with("alert")
                        || operation.ends_with("service")
                        || operation.starts_with("subscribe") =>
                {
                    o.response(code, ResponseBuilder::new().description("Added"))
                }
                _ => o.response(code, json("Done", reply)),
            };
            self.add(method, &format!("/api/v1/incidents/{{id}}{suffix}"), o);
        }
    }
}
