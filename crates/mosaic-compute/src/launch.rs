//! Cluster launchers on the engines users already have: a Slurm array
//! script whose tasks are `mosaic worker`s, and a Kubernetes Indexed Job of
//! the same. NeuroMosaic schedules nothing itself: the workers pull runs
//! from the shared store (leases), so any number of them, started anywhere,
//! train a sweep once.
//!
//! Neither file holds the database password: Slurm passes the submitting
//! environment on (`PGPASSWORD`), Kubernetes reads it from a Secret.

use std::path::Path;

/// What every launcher starts: workers of one sweep of one store.
pub struct LaunchPlan<'a> {
    /// The `mosaic` program the workers run (as the cluster's machines see it).
    pub program: &'a Path,
    /// The store's URL without its password.
    pub store: &'a str,
    pub sweep: &'a str,
    pub workers: usize,
    /// Where the workers' logs go (the store's shared folder).
    pub logs: &'a Path,
}

/// A name Slurm and Kubernetes accept: lower-case letters, digits and `-`.
pub fn job_name(sweep: &str) -> String {
    let name: String = sweep.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let name = name.trim_matches('-');
    format!("mosaic-{}", &name[..name.len().min(50)]).trim_end_matches('-').to_string()
}

/// Quotes `s` for the shell: one word, whatever it holds.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// An `sbatch` script: an array of `plan.workers` tasks, each a worker;
/// `extra` are further `#SBATCH` options (`--partition=gpu`, `--time=2:00:00`).
pub fn slurm_script(plan: &LaunchPlan, extra: &[String]) -> String {
    let mut out = String::from("#!/bin/bash\n");
    out += &format!("#SBATCH --job-name={}\n", job_name(plan.sweep));
    out += &format!("#SBATCH --array=0-{}\n", plan.workers.max(1) - 1);
    out += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
    out += &format!("#SBATCH --output={}/%x-%A_%a.out\n", plan.logs.display());
    for line in extra {
        out += &format!("#SBATCH {}\n", line.trim());
    }
    out += "# Each task is a worker: it claims the sweep's runs from the shared store, one at a time.\n";
    out += "# The database password comes from the environment sbatch passes on (PGPASSWORD) or ~/.pgpass.\n";
    out += &format!(
        "exec {} worker --store {} --sweep {}\n",
        shell_quote(&plan.program.display().to_string()),
        shell_quote(plan.store),
        shell_quote(plan.sweep)
    );
    out
}

/// A Kubernetes Indexed Job of `plan.workers` pods, each a worker, for
/// `kubectl apply -f`. The image must hold `mosaic`; the password comes
/// from the Secret `secret` (key `password`); the shared folder is the
/// PersistentVolumeClaim `claim`, mounted where the store names it.
pub fn kubernetes_manifest(plan: &LaunchPlan, image: &str, files: &Path, secret: &str, claim: &str) -> String {
    let name = job_name(plan.sweep);
    let json = |s: &str| serde_json::to_string(s).expect("a string always serialises");
    format!(
        "# kubectl create secret generic {secret} --from-literal=password=...   (the database password)\n\
         # kubectl apply -f THIS_FILE\n\
         apiVersion: batch/v1\n\
         kind: Job\n\
         metadata:\n  name: {name}\n\
         spec:\n  completionMode: Indexed\n  completions: {n}\n  parallelism: {n}\n  backoffLimit: {backoff}\n\
         \x20 template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      restartPolicy: Never\n\
         \x20     containers:\n        - name: worker\n          image: {image}\n\
         \x20         args: [\"worker\", \"--store\", {store}, \"--sweep\", {sweep}]\n\
         \x20         env:\n            - name: PGPASSWORD\n              valueFrom:\n                secretKeyRef:\n\
         \x20                 name: {secret}\n                  key: password\n\
         \x20         volumeMounts:\n            - name: files\n              mountPath: {files}\n\
         \x20     volumes:\n        - name: files\n          persistentVolumeClaim:\n            claimName: {claim}\n",
        n = plan.workers.max(1),
        backoff = 2 * plan.workers.max(1),
        image = json(image),
        store = json(plan.store),
        sweep = json(plan.sweep),
        files = json(&files.display().to_string()),
    )
}

/// The job id `sbatch --parsable` printed (`1234` or `1234;cluster`).
pub fn parse_job_id(printed: &str) -> Option<String> {
    let id = printed.trim().split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> LaunchPlan<'static> {
        LaunchPlan {
            program: Path::new("/opt/mosaic/bin/mosaic"),
            store: "postgres://ada@db.lab/mosaic?files=/shared/runs",
            sweep: "Fashion MNIST's sweep",
            workers: 8,
            logs: Path::new("/shared/runs/logs"),
        }
    }

    #[test]
    fn the_slurm_script_is_an_array_of_workers_with_the_users_options() {
        let script = slurm_script(&plan(), &["--partition=gpu".into(), " --time=2:00:00".into()]);
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines[0], "#!/bin/bash");
        assert!(lines.contains(&"#SBATCH --job-name=mosaic-fashion-mnist-s-sweep"), "{script}");
        assert!(lines.contains(&"#SBATCH --array=0-7"), "{script}");
        assert!(lines.contains(&"#SBATCH --output=/shared/runs/logs/%x-%A_%a.out"), "{script}");
        assert!(lines.contains(&"#SBATCH --partition=gpu") && lines.contains(&"#SBATCH --time=2:00:00"), "{script}");
        assert_eq!(
            *lines.last().unwrap(),
            r"exec '/opt/mosaic/bin/mosaic' worker --store 'postgres://ada@db.lab/mosaic?files=/shared/runs' --sweep 'Fashion MNIST'\''s sweep'"
        );
        // Every #SBATCH line comes before the first command, as sbatch requires.
        let first_command = lines.iter().position(|l| !l.starts_with('#')).unwrap();
        assert!(lines[first_command..].iter().all(|l| !l.starts_with("#SBATCH")));
    }

    #[test]
    fn the_kubernetes_manifest_is_an_indexed_job_reading_the_password_from_a_secret() {
        let manifest = kubernetes_manifest(&plan(), "lab/mosaic:1.2", Path::new("/shared/runs"), "mosaic-db", "mosaic-files");
        for line in [
            "kind: Job",
            "  name: mosaic-fashion-mnist-s-sweep",
            "  completionMode: Indexed",
            "  completions: 8",
            "  parallelism: 8",
            "          image: \"lab/mosaic:1.2\"",
            "          args: [\"worker\", \"--store\", \"postgres://ada@db.lab/mosaic?files=/shared/runs\", \"--sweep\", \"Fashion MNIST's sweep\"]",
            "                  name: mosaic-db",
            "              mountPath: \"/shared/runs\"",
            "            claimName: mosaic-files",
        ] {
            assert!(manifest.lines().any(|l| l == line), "missing {line:?} in\n{manifest}");
        }
        // YAML indents with spaces only, and every line of the spec is indented under its parent.
        assert!(!manifest.contains('\t'));
    }

    #[test]
    fn job_ids_are_read_from_sbatch_parsable_output() {
        assert_eq!(parse_job_id("1234\n").as_deref(), Some("1234"));
        assert_eq!(parse_job_id("88;cluster-a\n").as_deref(), Some("88"));
        assert_eq!(parse_job_id("sbatch: error: invalid partition"), None);
    }
}
