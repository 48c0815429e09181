//! The PostgreSQL backend: a store shared by many machines, named by a
//! `postgres://` URL. The database holds the records; the run files go to a
//! shared folder the store names (`?files=/shared/dir` on first use), which
//! every worker must see at the same path.
//!
//! The password comes from the URL, `PGPASSWORD` or `~/.pgpass` (as libpq
//! reads them) and is never shown: errors and logs name the store by
//! [`redact`]ed URL.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;
use std::time::Duration;

use bytes::BytesMut;
use postgres::config::Host;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, NoTls, Statement};

use crate::db::{Backend, Db, Row, Val, numbered_dollars};
use crate::store::TrainingLock;
use crate::tls::{Mode, Tls};
use crate::{Result, StoreError, schema};

/// Whether `location` names a PostgreSQL store (`postgres://…` or `postgresql://…`).
pub fn is_postgres(location: &Path) -> bool {
    location.to_str().is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// How a store location may be shown: a folder as it is, a URL with its
/// password (in the user part or a `password=` option) replaced by `***`.
pub fn redact(location: &Path) -> String {
    rewrite_password(location, Some("***")).0
}

/// A location without its password (for scripts, manifests and the commands
/// messages suggest, which get the password from the environment or
/// `~/.pgpass`), and the password it held.
pub fn split_password(location: &Path) -> (String, Option<String>) {
    rewrite_password(location, None)
}

/// The location with its password replaced by `mask` (or taken out), and the password.
fn rewrite_password(location: &Path, mask: Option<&str>) -> (String, Option<String>) {
    let shown = location.display().to_string();
    if !is_postgres(location) {
        return (shown, None);
    }
    let (scheme, rest) = shown.split_once("://").expect("a postgres URL has a scheme");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let mut password = None;
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, secret)) => {
                password = Some(percent_decode(secret));
                match mask {
                    Some(mask) => format!("{name}:{mask}@{host}"),
                    None => format!("{name}@{host}"),
                }
            }
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .filter_map(|kv| match kv.strip_prefix("password=") {
                    Some(secret) => {
                        password = Some(percent_decode(secret));
                        mask.map(|mask| format!("password={mask}"))
                    }
                    None => Some(kv.to_string()),
                })
                .collect();
            if query.is_empty() { path.to_string() } else { format!("{path}?{}", query.join("&")) }
        }
        None => tail.to_string(),
    };
    (format!("{scheme}://{authority}{tail}"), password)
}

/// A PostgreSQL store's address, split into what the client connects with
/// and NeuroMosaic's own option (`files=`: the shared folder for run files).
pub(crate) struct PgLocation {
    config: Config,
    /// `sslmode` and `sslrootcert`, read here (the client knows only three modes).
    tls: Tls,
    /// The URL as errors show it (no password).
    pub(crate) shown: String,
    pub(crate) files: Option<PathBuf>,
}

impl PgLocation {
    pub(crate) fn parse(location: &Path) -> Result<PgLocation> {
        let raw = location.to_str().expect("checked by is_postgres");
        let shown = redact(location);
        let bad = |message: String| StoreError::Postgres { url: shown.clone(), message };
        let (base, query) = raw.split_once('?').unwrap_or((raw, ""));
        let mut files = None;
        let mut tls = Tls { mode: Mode::Prefer, root: None };
        let mut kept = Vec::new();
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
            match key {
                "files" => files = Some(PathBuf::from(percent_decode(value))),
                "sslmode" => {
                    tls.mode = Mode::parse(value).ok_or_else(|| {
                        bad(format!("sslmode={value} is not one of disable, allow, prefer, require, verify-ca, verify-full"))
                    })?
                }
                "sslrootcert" => tls.root = Some(PathBuf::from(percent_decode(value))),
                _ => kept.push(kv),
            }
        }
        let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        let mut config =
            Config::from_str(&url).map_err(|e| bad(format!("not a PostgreSQL URL ({e}); write postgres://USER@HOST:PORT/DATABASE")))?;
        if config.get_user().is_none()
            && let Some(user) = std::env::var("PGUSER").ok().or_else(|| std::env::var("USER").ok())
        {
            config.user(&user);
        }
        if config.get_hosts().is_empty() {
            match std::env::var("PGHOST") {
                Ok(host) => config.host(&host),
                // libpq's default on Debian: the local server's socket folder.
                Err(_) => config.host_path("/var/run/postgresql"),
            };
        }
        if config.get_connect_timeout().is_none() {
            // An unreachable server is reported in seconds, not after the system's minutes.
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_password().is_none()
            && let Some(password) = std::env::var("PGPASSWORD").ok().or_else(|| pgpass_password(&config))
        {
            config.password(password);
        }
        config.ssl_mode(tls.mode.negotiation());
        Ok(PgLocation { config, tls, shown, files })
    }

    /// A new session with the server; errors say what to check.
    pub(crate) fn connect(&self) -> Result<Client> {
        let failed = |message| StoreError::Postgres { url: self.shown.clone(), message };
        let connected = match self.tls.mode {
            Mode::Disable => self.config.connect(NoTls),
            _ => self.config.connect(self.tls.connector().map_err(failed)?),
        };
        connected.map_err(|e| failed(explain(&e, &self.config, &self.tls)))
    }
}

/// What went wrong talking to the server, and what to do about it.
fn explain(e: &postgres::Error, config: &Config, tls: &Tls) -> String {
    let user = config.get_user().unwrap_or("?");
    if let Some(db) = e.as_db_error() {
        return match db.code().code() {
            "28000" if db.message().contains("pg_hba.conf") => format!(
                "the server turns this connection away ({}): connect as its pg_hba.conf allows (sslmode=require where it wants \
                 encryption), or ask its administrator to let this host and user in",
                db.message()
            ),
            "28P01" | "28000" => {
                format!("the server refused user `{user}` ({}): check the password in the URL, PGPASSWORD or ~/.pgpass", db.message())
            }
            "3D000" => format!("{}: create it first (createdb), or name another database in the URL", db.message()),
            "42501" => format!("{}: grant user `{user}` the rights on this database, or use its owner", db.message()),
            _ => db.message().to_string(),
        };
    }
    let text = describe(e);
    if text.contains("TLS") {
        return format!(
            "{text}: with sslmode={}, check that the server speaks TLS and that sslrootcert is its certificate authority \
             (verify-full: that its certificate names this host)",
            tls.mode.as_str()
        );
    }
    if text.contains("password missing") {
        return format!("the server asks user `{user}` for a password and none was given: put it in the URL, PGPASSWORD or ~/.pgpass");
    }
    if e.is_closed() || text.contains("connect") || text.contains("timed out") {
        format!("cannot reach the server ({text}): is it running and listening at this host and port?")
    } else {
        text
    }
}

/// What the server said, or the client's own words with the causes it
/// chains ("error connecting to server: Connection refused").
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// The password `~/.pgpass` (or `PGPASSFILE`) holds for this host, port,
/// database and user: lines `host:port:database:user:password`, `*` matching
/// anything, `\:` and `\\` escaped.
fn pgpass_password(config: &Config) -> Option<String> {
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(host) => host.clone(),
        // libpq matches a socket connection against `localhost`.
        Host::Unix(_) => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let user = config.get_user()?.to_string();
    let db = config.get_dbname().map_or_else(|| user.clone(), str::to_string);
    let wanted = [host, port, db, user];
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|line| {
        let fields = pgpass_fields(line);
        let [h, p, d, u, password] = <[String; 5]>::try_from(fields).ok()?;
        let matches = [h, p, d, u].iter().zip(&wanted).all(|(field, want)| field == "*" || field == want);
        matches.then_some(password)
    })
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field at least").extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One session with the server; statements are prepared once and kept.
pub(crate) struct PostgresDb {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    shown: String,
}

impl PostgresDb {
    /// Connects and brings the database's tables up to date (creating them in an empty database).
    pub(crate) fn open(location: &PgLocation) -> Result<PostgresDb> {
        let mut client = location.connect()?;
        schema::connect_postgres(&mut client, &location.shown)?;
        Ok(PostgresDb { client: RefCell::new(client), statements: RefCell::default(), shown: location.shown.clone() })
    }

    fn error(&self, e: postgres::Error) -> StoreError {
        StoreError::Postgres { url: self.shown.clone(), message: describe(&e) }
    }

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.borrow_mut().prepare(&numbered_dollars(sql)).map_err(|e| self.error(e))?;
        self.statements.borrow_mut().insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

/// Holds a session-level advisory lock: one process trains into a shared
/// store at a time without the lease protocol; the server lets go of the
/// lock when the session ends, a crashed process's included.
pub(crate) fn lock_for_training(location: &PgLocation) -> Result<TrainingLock> {
    let mut client = location.connect()?;
    let held: bool = client
        .query_one("SELECT pg_try_advisory_lock(7366756)", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| StoreError::Postgres { url: location.shown.clone(), message: describe(&e) })?;
    if !held {
        return Err(StoreError::Invalid {
            path: location.shown.clone(),
            message: "another mosaic process is training into this store; wait for it, stop it, or run `mosaic worker`s, which share it"
                .into(),
        });
    }
    Ok(TrainingLock::new(std::sync::Mutex::new(client)))
}

/// Runs finished in a shared store, as the server announces them (LISTEN on
/// `mosaic_runs`, fed by a trigger on `runs`): a viewer learns of each run
/// that any process finishes without reading the table again.
pub struct FinishedRuns {
    client: Client,
    sweep: i64,
    shown: String,
}

impl FinishedRuns {
    pub(crate) fn listen(location: &PgLocation, sweep: i64) -> Result<FinishedRuns> {
        let mut client = location.connect()?;
        let shown = location.shown.clone();
        client.batch_execute("LISTEN mosaic_runs").map_err(|e| StoreError::Postgres { url: shown.clone(), message: describe(&e) })?;
        Ok(FinishedRuns { client, sweep, shown })
    }

    /// The sweep's runs finished since the last call, waiting up to `timeout`
    /// for the first; empty if none finished in that time.
    pub fn next(&mut self, timeout: Duration) -> Result<Vec<i64>> {
        let sweep = self.sweep.to_string();
        let mut runs = Vec::new();
        let mut notifications = self.client.notifications();
        let mut wait = timeout;
        loop {
            let mut batch = notifications.timeout_iter(wait);
            let Some(note) = batch.next().map_err(|e| StoreError::Postgres { url: self.shown.clone(), message: describe(&e) })? else {
                return Ok(runs);
            };
            if let Some((s, run)) = note.payload().split_once(' ')
                && s == sweep
                && let Ok(run) = run.parse()
            {
                runs.push(run);
            }
            // The first arrived: take what else is queued, without waiting again.
            wait = Duration::ZERO;
        }
    }
}

impl ToSql for Val {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Real(v) => v.to_sql(ty, out),
            Val::Text(v) => v.as_str().to_sql(ty, out),
            Val::Blob(v) => v.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Val {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Val, Box<dyn std::error::Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Val::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Val::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Val::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Val::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Val::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Val::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Val::Blob(Vec::<u8>::from_sql(ty, raw)?),
            _ => Val::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Val, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Val::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn refs(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Db for PostgresDb {
    fn exec(&self, sql: &str, args: &[Val]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        self.client.borrow_mut().execute(&stmt, &refs(args)).map_err(|e| self.error(e))
    }

    fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let rows = self.client.borrow_mut().query(&stmt, &refs(args)).map_err(|e| self.error(e))?;
        let db: Rc<str> = Rc::from(self.shown.as_str());
        rows.iter()
            .map(|row| {
                let values = (0..row.len()).map(|i| row.try_get::<_, Val>(i)).collect::<std::result::Result<_, _>>();
                Ok(Row { values: values.map_err(|e| self.error(e))?, db: db.clone() })
            })
            .collect()
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.client.borrow_mut().batch_execute(sql).map_err(|e| self.error(e))
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn shown(&self) -> &str {
        &self.shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        let url = |s: &str| redact(Path::new(s));
        assert_eq!(url("postgres://ada:s3cret@db.lab:5433/mosaic"), "postgres://ada:***@db.lab:5433/mosaic");
        assert_eq!(url("postgresql://ada:p@ss@db/m?files=/shared"), "postgresql://ada:***@db/m?files=/shared");
        assert_eq!(url("postgres://db/m?user=ada&password=s3cret&files=/x"), "postgres://db/m?user=ada&password=***&files=/x");
        assert_eq!(url("postgres://ada@db/m"), "postgres://ada@db/m");
        assert_eq!(url("/data/store"), "/data/store");
    }

    #[test]
    fn a_location_splits_into_what_scripts_may_hold_and_the_password() {
        let split = |s: &str| split_password(Path::new(s));
        assert_eq!(split("postgres://ada:p%40ss@db:5433/m?files=/x"), ("postgres://ada@db:5433/m?files=/x".into(), Some("p@ss".into())));
        assert_eq!(split("postgres://db/m?password=pw"), ("postgres://db/m".into(), Some("pw".into())));
        assert_eq!(split("postgres://ada@db/m"), ("postgres://ada@db/m".into(), None));
        assert_eq!(split("/data/store"), ("/data/store".into(), None));
    }

    #[test]
    fn the_files_option_is_ours_and_the_rest_goes_to_the_client() {
        let loc = PgLocation::parse(Path::new("postgres://ada:pw@db.lab:5433/mosaic?files=/shared/my%20runs&application_name=w")).unwrap();
        assert_eq!(loc.files.as_deref(), Some(Path::new("/shared/my runs")));
        assert_eq!(loc.config.get_application_name(), Some("w"));
        assert_eq!(loc.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(loc.config.get_dbname(), Some("mosaic"));
        assert!(!loc.shown.contains("pw@"), "{}", loc.shown);
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        assert_eq!(pgpass_fields(r"db.lab:5433:*:ada:pa\:ss\\w"), ["db.lab", "5433", "*", "ada", r"pa:ss\w"]);
    }

    #[test]
    fn tls_options_are_read_with_libpqs_meanings() {
        let loc = PgLocation::parse(Path::new("postgres://ada@db/m?sslmode=verify-full&sslrootcert=/etc/ca%20root.pem&files=/x")).unwrap();
        assert_eq!((loc.tls.mode, loc.tls.root.as_deref()), (Mode::VerifyFull, Some(Path::new("/etc/ca root.pem"))));
        assert_eq!(loc.config.get_ssl_mode(), postgres::config::SslMode::Require);
        let loc = PgLocation::parse(Path::new("postgres://ada@db/m")).unwrap();
        assert_eq!((loc.tls.mode, loc.config.get_ssl_mode()), (Mode::Prefer, postgres::config::SslMode::Prefer));
        let Err(e) = PgLocation::parse(Path::new("postgres://ada@db/m?sslmode=always")) else { panic!("accepted") };
        assert!(e.to_string().contains("not one of disable, allow, prefer, require, verify-ca, verify-full"), "{e}");
        let Err(e) = Tls { mode: Mode::VerifyCa, root: Some("/no/such/ca.pem".into()) }.connector() else {
            panic!("no root, no connector")
        };
        assert!(e.contains("/no/such/ca.pem"), "{e}");
    }
}
