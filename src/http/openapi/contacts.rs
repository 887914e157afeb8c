//! People's contact methods, their test notifications and notification rules in the OpenAPI
//! document (`notify::api`).

use utoipa::PartialSchema;
use utoipa::openapi::{Header, HttpMethod, Ref, ResponseBuilder, ToArray};

use crate::auth::Role;
use crate::notify::api::{CreatedContactMethod, NewContactMethod, NewNotificationRule};
use crate::notify::contact::{ContactMethod, NotificationRule};
use crate::notify::test_message::TestStatus;

use super::{Doc, body, error, json, op, path_param, writes};

impl Doc {
    pub(super) fn contacts(&mut self) {
        let person = || path_param("id", String::schema(), "The person's id");
        let method = self.schema::<ContactMethod>();
        let methods = "/api/v1/people/{id}/contact-methods";
        let list = op("contacts", "list_contact_methods", Role::Viewer)
            .summary(Some(
                "A person's contact methods (admins, or the person's own account)",
            ))
            .parameter(person())
            .response("200", json("The methods", method.to_array()))
            .response("403", error("Forbidden"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, methods, list);
        let new = self.schema::<NewContactMethod>();
        let created = self.schema::<CreatedContactMethod>();
        let create = op("contacts", "create_contact_method", Role::Responder)
            .summary(Some(
                "Add a contact method; a webhook's signing secret is in this response only",
            ))
            .parameter(person())
            .request_body(Some(body(new)))
            .response("201", json("Created", created));
        self.add(HttpMethod::Post, methods, writes(create, &["404"]));
        let remove = op("contacts", "delete_contact_method", Role::Responder)
            .summary(Some("Remove a contact method and its rules"))
            .parameter(path_param("id", String::schema(), "The method's id"))
            .response("204", ResponseBuilder::new().description("Removed"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Delete, "/api/v1/contact-methods/{id}", remove);
        self.contact_tests();

        let rule = self.schema::<NotificationRule>();
        let rules = "/api/v1/people/{id}/notification-rules";
        let list = op("contacts", "list_notification_rules", Role::Viewer)
            .summary(Some("A person's notification rules, earliest first"))
            .parameter(person())
            .response("200", json("The rules", rule.clone().to_array()))
            .response("403", error("Forbidden"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, rules, list);
        let new = self.schema::<NewNotificationRule>();
        let create = op("contacts", "create_notification_rule", Role::Responder)
            .summary(Some(
                "Notify through one of the person's methods N minutes after a page",
            ))
            .parameter(person())
            .request_body(Some(body(new)))
            .response("201", json("Created", rule));
        self.add(HttpMethod::Post, rules, writes(create, &["404", "409"]));
        let remove = op("contacts", "delete_notification_rule", Role::Responder)
            .summary(Some("Remove a notification rule"))
            .parameter(path_param("id", String::schema(), "The rule's id"))
            .response("204", ResponseBuilder::new().description("Removed"))
            .response("404", error("NotFound"));
        self.add(
            HttpMethod::Delete,
            "/api/v1/notification-rules/{id}",
            remove,
        );
    }
}

impl Doc {
    /// "Send test" on a contact method, and the outcomes.
    fn contact_tests(&mut self) {
        let id = || path_param("id", String::schema(), "The method's id");
        let status = self.schema::<TestStatus>();
        let send = op("contacts", "test_contact_method", Role::Responder)
            .summary(Some(
                "Send a test notification through the method, delivered like a page (same \
                 outbox, retries and signature, no acknowledge link); at most one per 10 s",
            ))
            .parameter(id())
            .response(
                "202",
                json("Queued; `id` is the outbox row", status.clone())
                    .header("Location", Header::new(String::schema())),
            )
            .response("404", error("NotFound"))
            .response(
                "429",
                json(
                    "A test went to this method less than 10 s ago; retry after `Retry-After` s",
                    Ref::from_schema_name("Error"),
                )
                .header("Retry-After", Header::new(u64::schema())),
            );
        self.add(HttpMethod::Post, "/api/v1/contact-methods/{id}/test", send);
        let list = op("contacts", "list_contact_method_tests", Role::Viewer)
            .summary(Some(
                "The method's latest test notifications and how each went, newest first",
            ))
            .parameter(id())
            .response("200", json("The tests", status.to_array()))
            .response("403", error("Forbidden"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/contact-methods/{id}/tests", list);
    }
}
