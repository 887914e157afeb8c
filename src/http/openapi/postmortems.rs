//! The postmortem endpoints in the OpenAPI document (`postmortems::api`): reads for viewers
//! (published ones), then the commands, listed as a table like the incidents'.

use utoipa::openapi::path::{OperationBuilder, ParameterIn};
use utoipa::openapi::{HttpMethod, RefOr, ResponseBuilder, Schema, ToArray};
use utoipa::{IntoParams, PartialSchema};

use crate::auth::Role;
use crate::postmortems::ActionItem;
use crate::postmortems::api::{
    ChangesBody, CommentBody, DetailsBody, PostmortemDetail, ReviewerBody, SavedSection,
    SectionBody,
};
use crate::postmortems::api_library::{CheckBody, LibraryQuery, TzQuery};
use crate::postmortems::blameless::Flag;
use crate::postmortems::command::ActionInput;
use crate::postmortems::store::library::Hit;

use super::{Doc, body, error, json, op, path_param, writes};

const TAG: &str = "postmortems";

type Command = (
    HttpMethod,
    &'static str,
    &'static str,
    &'static str,
    Option<RefOr<Schema>>,
    &'static str,
    RefOr<Schema>,
);

fn id() -> utoipa::openapi::path::Parameter {
    path_param(
        "id",
        i64::schema(),
        "The incident's number (12 for INC-12's postmortem)",
    )
}

impl Doc {
    pub(super) fn postmortems(&mut self) {
        let detail = self.schema::<PostmortemDetail>();
        let hit = self.schema::<Hit>();
        let library = op(TAG, "list_postmortems", Role::Viewer)
            .summary(Some(
                "The postmortem library: search and filters (viewers: published only)",
            ))
            .parameters(Some(LibraryQuery::into_params(|| Some(ParameterIn::Query))))
            .response(
                "200",
                json("Postmortems, newest incident first", hit.to_array()),
            )
            .response("400", error("BadRequest"))
            .response("422", error("Unprocessable"));
        self.add(HttpMethod::Get, "/api/v1/postmortems", library);
        let read = op(TAG, "get_postmortem", Role::Viewer)
            .summary(Some(
                "A postmortem: sections, reviewers, comments, action items, flags",
            ))
            .parameter(id())
            .response("200", json("The postmortem", detail.clone()))
            .response("403", error("Forbidden"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/postmortems/{id}", read);
        let export = op(TAG, "export_postmortem", Role::Viewer)
            .summary(Some(
                "The postmortem as Markdown, times in the reader's zone",
            ))
            .parameter(id())
            .parameters(Some(TzQuery::into_params(|| Some(ParameterIn::Query))))
            .response(
                "200",
                ResponseBuilder::new().description("text/markdown").content(
                    "text/markdown",
                    utoipa::openapi::Content::new(Some(String::schema())),
                ),
            )
            .response("400", error("BadRequest"))
            .response("403", error("Forbidden"))
            .response("404", error("NotFound"));
        self.add(
            HttpMethod::Get,
            "/api/v1/postmortems/{id}/export.md",
            export,
        );
        let flag = self.schema::<Flag>();
        let check = op(TAG, "check_blameless", Role::Viewer)
            .summary(Some("Flag blaming language in a text, with suggestions"))
            .request_body(Some(body(self.schema::<CheckBody>())))
            .response("200", json("The flags", flag.to_array()));
        self.add(HttpMethod::Post, "/api/v1/blameless", writes(check, &[]));
        let draft = op(TAG, "draft_postmortem", Role::Responder)
            .summary(Some(
                "Draft the postmortem of a resolved incident from the template",
            ))
            .parameter(path_param("id", i64::schema(), "The incident's number"))
            .response("201", json("Drafted", detail.clone()))
            .response("404", error("NotFound"))
            .response("409", error("Conflict"))
            .response("422", error("Unprocessable"));
        self.add(HttpMethod::Post, "/api/v1/incidents/{id}/postmortem", draft);

        let action = self.schema::<ActionItem>();
        let commands: [Command; 12] = [
            (
                HttpMethod::Patch,
                "",
                "update_postmortem",
                "Change the title or the owner",
                Some(self.schema::<DetailsBody>()),
                "200",
                detail.clone(),
            ),
            (
                HttpMethod::Put,
                "/sections/{key}",
                "edit_postmortem_section",
                "Replace a section's text (in review: clears approvals)",
                Some(self.schema::<SectionBody>()),
                "200",
                self.schema::<SavedSection>(),
            ),
            (
                HttpMethod::Post,
                "/reviewers",
                "add_postmortem_reviewer",
                "Name a reviewer",
                Some(self.schema::<ReviewerBody>()),
                "201",
                detail.clone(),
            ),
            (
                HttpMethod::Delete,
                "/reviewers/{person}",
                "remove_postmortem_reviewer",
                "Remove a reviewer",
                None,
                "204",
                detail.clone(),
            ),
            (
                HttpMethod::Post,
                "/comments",
                "comment_on_postmortem",
                "A review comment on a section",
                Some(self.schema::<CommentBody>()),
                "201",
                detail.clone(),
            ),
            (
                HttpMethod::Post,
                "/submit",
                "submit_postmortem",
                "Submit for review (required sections filled, a reviewer named)",
                None,
                "200",
                detail.clone(),
            ),
            (
                HttpMethod::Post,
                "/request-changes",
                "request_postmortem_changes",
                "Back to draft, optionally with a comment on a section",
                Some(self.schema::<ChangesBody>()),
                "200",
                detail.clone(),
            ),
            (
                HttpMethod::Post,
                "/approve",
                "approve_postmortem",
                "Approve (a named reviewer)",
                None,
                "200",
                detail.clone(),
            ),
            (
                HttpMethod::Post,
                "/publish",
                "publish_postmortem",
                "Publish (every reviewer approved): read-only, and the incident closes",
                None,
                "200",
                detail,
            ),
            (
                HttpMethod::Post,
                "/actions",
                "add_action_item",
                "Add an action item (title, type, owner; team and due date optional)",
                Some(self.schema::<ActionInput>()),
                "201",
                action.clone(),
            ),
            (
                HttpMethod::Patch,
                "/actions/{aid}",
                "update_action_item",
                "Change an action item (or mark it done)",
                Some(self.schema::<ActionInput>()),
                "200",
                action.clone(),
            ),
            (
                HttpMethod::Delete,
                "/actions/{aid}",
                "delete_action_item",
                "Delete an action item (not once published)",
                None,
                "204",
                action,
            ),
        ];
        for (method, suffix, operation, summary, request, code, reply) in commands {
            let mut o: OperationBuilder = op(TAG, operation, Role::Responder)
                .summary(Some(summary))
                .parameter(id())
                .response("403", error("Forbidden"))
                .response("404", error("NotFound"))
                .response("409", error("Conflict"))
                .response("422", error("Unprocessable"));
            for (name, what) in [
                ("key", "The section's key"),
                ("person", "The reviewer's person id"),
                ("aid", "The action item's id"),
            ] {
                if suffix.contains(&format!("{{{name}}}")) {
                    let schema = if name == "aid" {
                        i64::schema()
                    } else {
                        String::schema()
                    };
                    o = o.parameter(path_param(name, schema, what));
                }
            }
            if let Some(r) = request {
                o = writes(o.request_body(Some(body(r))), &[]);
            }
            o = match code {
                "204" => o.response(code, ResponseBuilder::new().description("Done")),
                _ => o.response(code, json("Done", reply)),
            };
            self.add(method, &format!("/api/v1/postmortems/{{id}}{suffix}"), o);
        }
    }
}
