//! Tocsin: self-hosted incident management. See ARCHITECTURE.md for the map of this crate.

pub mod alerts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod engine;
pub mod escalation;
pub mod handbook;
pub mod http;
pub mod incidents;
pub mod notify;
pub mod oncall;
pub mod people;
pub mod postmortems;
pub mod reports;
pub mod settings;
pub mod severity;
pub mod slo;
