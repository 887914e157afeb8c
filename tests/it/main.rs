//! The one integration-test binary (each test binary costs link time). Modules by area.

mod support;

mod alertmanager;
mod alerts;
mod api;
mod auth;
mod browser;
mod browser_alert;
mod calendar;
mod config;
mod crash;
mod delivery;
mod engine;
mod fuzz_corpus;
mod ha;
mod incidents;
mod ingest_batch;
mod ingest_bulk;
mod notify;
mod oncall;
mod postmortems;
mod ratelimit;
mod reports;
mod rules;
mod serve;
mod sinks;
mod store;
mod web;
mod webdriver;
