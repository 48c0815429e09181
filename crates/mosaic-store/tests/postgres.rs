//! Faults of a shared store, on the test cluster (scripts/test.sh starts
//! one): each is one clear line naming the problem and the fix, with no
//! password in it, and nothing stored is lost.

use std::path::{Path, PathBuf};

use mosaic_store::{SqlStore, Store, StoreError, testing};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-pg-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The cluster's password: no error may show it.
fn password(cluster: &str) -> String {
    cluster.rsplit_once('@').unwrap().0.rsplit_once(':').unwrap().1.to_string()
}

fn open_err(url: &str) -> String {
    let err = SqlStore::open(Path::new(url)).err().expect("refused").to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn a_wrong_password_an_unreachable_server_and_a_missing_database_are_named_with_the_fix() {
    let Some(cluster) = testing::postgres_cluster() else { return };
    let secret = password(&cluster);
    let wrong = cluster.replace(&format!(":{secret}@"), ":not-the-password@");
    let err = open_err(&format!("{wrong}/postgres?files=/tmp/x"));
    assert!(err.contains("refused user `mosaic`") && err.contains("PGPASSWORD or ~/.pgpass"), "{err}");
    assert!(!err.contains("not-the-password") && err.contains(":***@"), "{err}");

    let (host, _port) = cluster.rsplit_once(':').unwrap();
    let err = open_err(&format!("{host}:1/postgres?files=/tmp/x"));
    assert!(err.contains("cannot reach the server") && err.contains("running and listening"), "{err}");
    assert!(!err.contains(&secret), "{err}");

    let err = open_err(&format!("{cluster}/no_such_database?files=/tmp/x"));
    assert!(err.contains("no_such_database") && err.contains("createdb"), "{err}");
    assert!(!err.contains(&secret), "{err}");
}

/// Both ways without a password in the URL, in one test: they change this
/// process's environment, which tests running at once would share.
#[test]
fn the_password_may_come_from_pgpassword_or_pgpass_instead_of_the_url() {
    let Some(url) = testing::scratch_postgres("pgpassword", &scratch("pgpassword-files")) else { return };
    let cluster = testing::postgres_cluster().unwrap();
    let secret = password(&cluster);
    let bare = url.display().to_string().replace(&format!(":{secret}@"), "@");
    let port = cluster.rsplit_once(':').unwrap().1;
    let pgpass = scratch("pgpass");
    std::fs::create_dir_all(&pgpass).unwrap();
    let file = pgpass.join("pgpass");
    std::fs::write(&file, format!("# host:port:database:user:password\notherhost:*:*:*:wrong\n127.0.0.1:{port}:*:mosaic:{secret}\n"))
        .unwrap();
    // SAFETY: these are the only environment changes of this test binary, and no other test reads them.
    unsafe { std::env::set_var("PGPASSWORD", &secret) };
    let from_env = SqlStore::open(Path::new(&bare));
    unsafe {
        std::env::remove_var("PGPASSWORD");
        std::env::set_var("PGPASSFILE", &file);
    }
    let from_file = SqlStore::open(Path::new(&bare));
    unsafe { std::env::remove_var("PGPASSFILE") };
    let without = SqlStore::open(Path::new(&bare)).err().expect("no password anywhere").to_string();
    for store in [from_env.unwrap(), from_file.unwrap()] {
        assert!(store.sweeps().unwrap().is_empty());
        assert!(!store.location().contains(&secret));
    }
    assert!(
        without.contains("asks user `mosaic` for a password and none was given") && without.contains("PGPASSWORD or ~/.pgpass"),
        "{without}"
    );
}

#[test]
fn the_shared_files_folder_is_named_once_checked_and_never_silently_changed() {
    let files = scratch("files");
    let Some(url) = testing::scratch_postgres("files", &files) else { return };
    let url = url.display().to_string();
    let bare = url.split_once("?files=").unwrap().0.to_string();
    let secret = password(&testing::postgres_cluster().unwrap());

    let err = open_err(&bare);
    assert!(err.contains("add ?files=/shared/dir to the URL"), "{err}");
    let err = open_err(&format!("{bare}?files=relative/dir"));
    assert!(err.contains("not an absolute path"), "{err}");
    let err = open_err(&format!("{bare}?files=/proc/mosaic-runs"));
    assert!(err.contains("/proc/mosaic-runs") && err.contains("mount the shared file system"), "{err}");

    let store = SqlStore::open(Path::new(&url)).unwrap();
    assert_eq!(store.root(), files.as_path());
    assert!(files.is_dir());
    // Named once: later opens find it without files=, and another folder is refused.
    assert_eq!(SqlStore::open(Path::new(&bare)).unwrap().root(), files.as_path());
    let err = open_err(&format!("{bare}?files=/tmp/elsewhere"));
    assert!(err.contains(&files.display().to_string()) && err.contains("not /tmp/elsewhere"), "{err}");
    assert!(!err.contains(&secret), "{err}");
}

#[test]
fn reading_an_empty_database_says_how_to_make_a_store_and_creates_nothing() {
    let Some(url) = testing::scratch_postgres("empty", &scratch("empty-files")) else { return };
    let err = SqlStore::open_existing(&url).err().expect("no store there");
    assert!(matches!(err, StoreError::EmptyDatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("mosaic store copy DIR URL"), "{err}");
    let err = SqlStore::open_existing(&url).err().expect("still none: reading created nothing");
    assert!(matches!(err, StoreError::EmptyDatabase { .. }), "{err:?}");
}

#[test]
fn a_store_from_a_newer_mosaic_is_refused_and_left_alone() {
    let Some(url) = testing::scratch_postgres("newer", &scratch("newer-files")) else { return };
    SqlStore::open(&url).unwrap();
    let cluster = testing::postgres_cluster().unwrap();
    let mut admin = postgres::Client::connect(&format!("{cluster}/mosaic_test_newer"), postgres::NoTls).unwrap();
    admin.batch_execute("UPDATE mosaic_schema SET version = 99").unwrap();
    let err = SqlStore::open(&url).err().expect("refused").to_string();
    assert!(err.contains("schema 99") && err.contains("upgrade mosaic"), "{err}");
    let version: i64 = admin.query_one("SELECT version FROM mosaic_schema", &[]).unwrap().get(0);
    assert_eq!(version, 99, "left alone");
}

#[test]
fn runs_finished_by_any_process_are_announced_to_listeners_of_their_sweep() {
    use mosaic_core::params::Value;
    use mosaic_core::{RunOutcome, RunStatus};
    let Some(url) = testing::scratch_postgres("announced", &scratch("announced-files")) else { return };
    let mut writer = SqlStore::open(&url).unwrap();
    let space = mosaic_core::ParamSpace::from_ron(r#"(params: [(name: "lr", kind: Float(low: 1e-5, high: 0.1, log: true))])"#).unwrap();
    let (watched, other) =
        (writer.create_param_sweep("watched", "d", &space).unwrap(), writer.create_param_sweep("other", "d", &space).unwrap());
    let point: mosaic_core::Params = [("lr".to_string(), Value::Float(1e-3))].into_iter().collect();
    let runs: Vec<i64> = (0..3).map(|_| writer.add_run(&watched, &point).unwrap().id).collect();
    let elsewhere = writer.add_run(&other, &point).unwrap().id;

    let reader = SqlStore::open_existing(&url).unwrap();
    let mut finished = reader.finished_runs(watched.id).unwrap().expect("a shared store announces");
    assert_eq!(finished.next(std::time::Duration::from_millis(100)).unwrap(), Vec::<i64>::new(), "nothing yet");
    let outcome =
        |status| RunOutcome { status, epochs: vec![], test_loss: None, test_accuracy: None, parameters: 0, seconds: 1.0, note: None };
    writer.finish_run(runs[2], &outcome(RunStatus::Done)).unwrap();
    writer.finish_run(elsewhere, &outcome(RunStatus::Done)).unwrap();
    writer.finish_run(runs[0], &outcome(RunStatus::Diverged)).unwrap();
    writer
        .record_epoch(
            runs[1],
            &mosaic_core::EpochMetrics {
                epoch: 1,
                train_loss: 1.0,
                train_accuracy: 0.5,
                val_loss: 1.0,
                val_accuracy: 0.5,
                grad_norm: 0.1,
                weight_norm: 1.0,
                learning_rate: 0.1,
                seconds: 0.1,
            },
        )
        .unwrap();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.len() < 2 && std::time::Instant::now() < deadline {
        seen.extend(finished.next(std::time::Duration::from_secs(1)).unwrap());
    }
    assert_eq!(seen, [runs[2], runs[0]], "the watched sweep's finished runs, in order; not other sweeps', not epochs");
    // A folder store has one trainer and nothing to announce.
    let folder = SqlStore::open(&scratch("announced-folder")).unwrap();
    assert!(folder.finished_runs(1).unwrap().is_none());
}

/// The test cluster takes the role `tls_only` over TLS only
/// (scripts/test-postgres.sh), so a session it accepts is encrypted.
#[test]
fn tls_follows_libpqs_sslmode_and_checks_the_server_as_asked() {
    let Some(url) = testing::scratch_postgres("tls", &scratch("tls-files")) else { return };
    let ca = std::env::var("MOSAIC_TEST_PG_CA").expect("scripts/test-postgres.sh exports the test certificate authority");
    let url = url.display().to_string().replacen("postgres://mosaic:", "postgres://tls_only:", 1);
    let open = |options: &str| SqlStore::open(Path::new(&format!("{url}&{options}"))).map(|_| ()).map_err(|e| e.to_string());
    let secret = password(&testing::postgres_cluster().unwrap());

    let plain = open("sslmode=disable").unwrap_err();
    assert!(plain.contains("no encryption") && plain.contains("sslmode=require"), "the server refuses tls_only in the clear: {plain}");
    for options in [
        "sslmode=prefer",
        "sslmode=require",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ] {
        open(options).unwrap_or_else(|e| panic!("{options}: {e}"));
    }
    open("").expect("TLS when offered is the default");

    // A certificate authority that did not sign the server's certificate.
    let dir = scratch("tls-other-ca");
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("other.crt");
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=somebody else"])
        .arg("-keyout")
        .arg(dir.join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let wrong = open(&format!("sslmode=verify-ca&sslrootcert={}", other.display())).unwrap_err();
    assert!(wrong.contains("TLS") && wrong.contains("sslrootcert is its certificate authority"), "{wrong}");
    // Without a root certificate, the modes that check the server say what they need.
    let missing = open("sslmode=verify-full").unwrap_err();
    assert!(missing.contains("sslrootcert=FILE"), "{missing}");
    for e in [plain, wrong, missing] {
        assert!(!e.contains(&secret) && e.lines().count() == 1, "{e}");
    }
}
