//! Learning reports and SLOs over a scripted month of history (`reports/seed.rs`) on both
//! backends: the report API and pages, error budgets and impairments, `tocsin report`, and a
//! report page's chart in a real browser.

mod api;
mod browser;
mod cli;
mod pages;
mod seed;
mod slo;
