//! A database of the bench's own on a PostgreSQL server, made with `psql`.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// A database, emptied when it was made and dropped with this value.
pub struct BenchDatabase {
    pub url: String,
    server_url: String,
    name: String,
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.server_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(server_url: &str, statement: &str) -> Result<()> {
    let output = Command::new("psql")
        .args([server_url, "--quiet", "--no-psqlrc", "--command", statement])
        .output()
        .context("running psql (the PostgreSQL scenarios need it; --postgres none skips them)")?;
    if !output.status.success() {
        bail!(
            "{statement}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Drops and creates the database `name` on the server of `server_url`
/// (any database URL of that server that `psql` accepts).
pub fn fresh_database(server_url: &str, name: &str) -> Result<BenchDatabase> {
    psql(
        server_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    psql(server_url, &format!("CREATE DATABASE {name}"))?;
    let url = database_url(server_url, name);
    Ok(BenchDatabase {
        url,
        server_url: server_url.to_owned(),
        name: name.to_owned(),
    })
}

/// The URL of the database `name` on the server of `server_url`, with
/// `server_url`'s parameters (`sslmode` above all), which the server under
/// test gets too.
fn database_url(server_url: &str, name: &str) -> String {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(base, query)| (base, Some(query)));
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let url = format!("{}/{name}", &base[..authority_end]);
    match query {
        Some(query) => format!("{url}?{query}"),
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn the_database_url_names_the_database_and_keeps_the_parameters() {
        assert_eq!(
            database_url(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "bench"
            ),
            "postgres://postgres@127.0.0.1:5432/bench?sslmode=disable"
        );
        assert_eq!(
            database_url(
                "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres",
                "bench"
            ),
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/bench"
        );
        assert_eq!(
            database_url("postgres://u:p@db:5432", "bench"),
            "postgres://u:p@db:5432/bench"
        );
        assert_eq!(
            database_url(
                "postgres://db/x?sslmode=require&sslrootcert=/ca.pem",
                "bench"
            ),
            "postgres://db/bench?sslmode=require&sslrootcert=/ca.pem"
        );
    }
}
