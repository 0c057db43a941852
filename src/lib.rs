//! Backlot: a headless GraphQL + JSON content API for pages that use real production records as brand proof.

pub mod app;
pub mod bundle;
pub mod cache;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod service;
pub mod statement_budget;
pub mod synthetic;
