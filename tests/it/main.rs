//! The one integration-test binary (each test binary costs link time). Modules by area.

mod support;

mod api;
mod auth;
mod browser;
mod config;
mod serve;
mod store;
mod web;
mod webdriver;
