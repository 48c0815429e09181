//! `mosaic sweep --launcher none|slurm|kubernetes`: the sweep is planned in
//! the store, and workers are started elsewhere to train it.

use anyhow::{Context, Result, bail};
use mosaic_compute::launch::{LaunchPlan, job_name, kubernetes_manifest, parse_job_id, slurm_script};
use mosaic_store::{Store, SweepInfo, is_postgres, redact, split_password};

use crate::sweep_cmd::{Launcher, SweepArgs};

/// The Kubernetes Secret holding the database password, and the claim of the shared folder.
const SECRET: &str = "mosaic-db";
const FILES_CLAIM: &str = "mosaic-files";

pub fn launch(args: &SweepArgs, store: &dyn Store, sweep: &SweepInfo) -> Result<()> {
    let (url, password) = split_password(&args.store);
    let shown = redact(&args.store);
    let quoted = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    if args.launcher == Launcher::None {
        println!(
            "sweep `{}` in {shown}: {} runs planned; train them with `mosaic worker --store {} --sweep {}` (as many as you like, anywhere)",
            sweep.name,
            sweep.runs,
            quoted(&url),
            quoted(&sweep.name)
        );
        return Ok(());
    }
    if !is_postgres(&args.store) {
        bail!(
            "--launcher {:?} starts workers on other machines, and they share a PostgreSQL store: pass --store postgres://USER@HOST/DB?files=/shared/dir",
            args.launcher
        );
    }
    let program = std::env::current_exe().context("cannot name this mosaic program for the workers")?;
    let logs = store.root().join("logs");
    let plan = LaunchPlan { program: &program, store: &url, sweep: &sweep.name, workers: args.workers.unwrap_or(4), logs: &logs };
    match args.launcher {
        Launcher::Slurm => {
            let script = slurm_script(&plan, &args.sbatch);
            if args.dry_run {
                print!("{script}");
                return Ok(());
            }
            std::fs::create_dir_all(&logs).with_context(|| format!("cannot create the workers' log folder {}", logs.display()))?;
            let path = store.root().join(format!("{}.sbatch", job_name(&sweep.name)));
            mosaic_core::fs::write_atomic(&path, script.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
            let mut sbatch = std::process::Command::new("sbatch");
            sbatch.arg("--parsable").arg(&path);
            if let Some(password) = password {
                // The tasks inherit the environment; the script never holds the password.
                sbatch.env("PGPASSWORD", password);
            }
            let out = sbatch.output().context("cannot run sbatch: run this on a Slurm login node, or take the script from --dry-run")?;
            let printed = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                bail!("sbatch refused {}: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim());
            }
            let id = parse_job_id(&printed).with_context(|| format!("sbatch printed no job id: {printed}"))?;
            println!(
                "submitted Slurm job {id}: {} workers on sweep `{}` in {shown}; watch with `squeue -j {id}`, logs in {}",
                plan.workers,
                sweep.name,
                logs.display()
            );
        }
        Launcher::Kubernetes => {
            let manifest = kubernetes_manifest(&plan, &args.image, store.root(), SECRET, FILES_CLAIM);
            if args.dry_run {
                print!("{manifest}");
                return Ok(());
            }
            let path = std::path::PathBuf::from(format!("{}.k8s.yaml", job_name(&sweep.name)));
            mosaic_core::fs::write_atomic(&path, manifest.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "wrote {}: an Indexed Job of {} workers; `kubectl create secret generic {SECRET} --from-literal=password=...` once, \
                 a PersistentVolumeClaim `{FILES_CLAIM}` for {}, then `kubectl apply -f {}`",
                path.display(),
                plan.workers,
                store.root().display(),
                path.display()
            );
        }
        Launcher::Local | Launcher::None => unreachable!("handled above"),
    }
    Ok(())
}
