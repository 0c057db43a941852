//! Settings shared by the commands: flags first, then environment, then the embedded default.

use std::net::SocketAddr;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://backlot.db";

#[derive(clap::Args, Debug, Clone)]
pub struct DatabaseConfig {
    /// Database to use: sqlite://PATH (created if missing) or postgres://USER:PASS@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "BACKLOT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Load the demo content set into an empty database before serving.
    #[arg(long)]
    pub demo: bool,
}
