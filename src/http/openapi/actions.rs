//! The action-item endpoints in the OpenAPI document (`postmortems::api_actions`): the list
//! across postmortems and the on-demand backlog export.

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::{HttpMethod, ToArray};
use utoipa::{IntoParams, PartialSchema};

use crate::auth::Role;
use crate::postmortems::ActionItem;
use crate::postmortems::api_actions::ActionsQuery;

use super::{Doc, error, json, op, path_param};

const TAG: &str = "postmortems";

impl Doc {
    pub(super) fn actions(&mut self) {
        let item = self.schema::<ActionItem>();
        let list = op(TAG, "list_action_items", Role::Viewer)
            .summary(Some(
                "Action items across postmortems, by team, overdue and open ones first",
            ))
            .parameters(Some(ActionsQuery::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("The action items", item.clone().to_array()))
            .response("400", error("BadRequest"));
        self.add(HttpMethod::Get, "/api/v1/actions", list);
        let sync = op(TAG, "sync_action_item_backlog", Role::Responder)
            .summary(Some(
                "Export an action item to the configured backlog now, or re-read its state \
                 there; a failed call is in the item's backlog_error",
            ))
            .parameter(path_param(
                "id",
                i64::schema(),
                "The postmortem's (incident's) number",
            ))
            .parameter(path_param("aid", i64::schema(), "The action item's id"))
            .response("200", json("The action item afterwards", item))
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"))
            .response("409", error("Conflict"));
        self.add(
            HttpMethod::Post,
            "/api/v1/postmortems/{id}/actions/{aid}/backlog",
            sync,
        );
    }
}
