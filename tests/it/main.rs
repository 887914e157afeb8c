//! The one integration-test binary (each test binary costs link time). Modules by area.

mod support;

mod config;
mod store;
