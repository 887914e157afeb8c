//! The learning-report and SLO endpoints in the OpenAPI document (`reports::web`,
//! `slo::api`). The SLO records themselves are catalog CRUD (`Doc::crud`).

use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::{HttpMethod, ObjectBuilder, Required, Type};
use utoipa::{IntoParams, PartialSchema};

use crate::auth::Role;
use crate::reports::{Name, Query, Report};
use crate::slo::api::{BudgetQuery, Impairment, ImpairmentBody};
use crate::slo::budget::Budget;

use super::{Doc, body, error, json, op, path_param, writes};

impl Doc {
    pub(super) fn reports(&mut self) {
        let report = self.schema::<Report>();
        let names: Vec<&str> = Name::ALL.iter().map(|n| n.as_str()).collect();
        let name = ParameterBuilder::new()
            .name("name")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("Which report"))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names)),
            ))
            .build();
        let read = op("reports", "get_report", Role::Viewer)
            .summary(Some(
                "A learning report over a period (default: the last 90 days): response, \
                 services, oncall, breaches or alerts",
            ))
            .parameter(name)
            .parameters(Some(Query::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("The report", report))
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/reports/{name}", read);

        let budget = self.schema::<Budget>();
        let read = op("slos", "slo_budget", Role::Viewer)
            .summary(Some(
                "An SLO's error budget over its window ending at `at`, and the incidents that consumed it",
            ))
            .parameter(path_param("id", String::schema(), "The SLO's id"))
            .parameters(Some(BudgetQuery::into_params(|| Some(ParameterIn::Query))))
            .response("200", json("The budget", budget))
            .response("400", error("BadRequest"))
            .response("404", error("NotFound"));
        self.add(HttpMethod::Get, "/api/v1/slos/{id}/budget", read);

        let (b, reply) = (self.schema::<ImpairmentBody>(), self.schema::<Impairment>());
        let set = op("incidents", "set_service_impairment", Role::Responder)
            .summary(Some(
                "When a service was impaired during an incident (what its SLOs' budgets count)",
            ))
            .parameter(path_param("id", i64::schema(), "The incident's number"))
            .parameter(path_param(
                "service",
                String::schema(),
                "A service of the incident",
            ))
            .request_body(Some(body(b)))
            .response("200", json("Recorded", reply));
        self.add(
            HttpMethod::Put,
            "/api/v1/incidents/{id}/services/{service}/impairment",
            writes(set, &["404"]),
        );
    }
}
