//! Records of training runs: what was trained, how it went, epoch by epoch.

use serde::{Deserialize, Serialize};

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunStatus {
    /// Planned, not trained yet (or interrupted: it is trained again on resume).
    Pending,
    /// Being trained outside NeuroMosaic (a run logged from Python): its
    /// epochs so far are stored; NeuroMosaic never trains it.
    Running,
    /// Trained to the end.
    Done,
    /// Stopped because its loss became NaN or exploded; its metrics so far are kept.
    Diverged,
    /// Could not be trained (e.g. the spec does not fit the data); the error is kept.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Diverged => "diverged",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        match s {
            "pending" => Some(RunStatus::Pending),
            "running" => Some(RunStatus::Running),
            "done" => Some(RunStatus::Done),
            "diverged" => Some(RunStatus::Diverged),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }

    /// Finished runs are never trained again.
    pub fn is_finished(self) -> bool {
        !matches!(self, RunStatus::Pending | RunStatus::Running)
    }
}

/// What one epoch of training measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: u32,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    /// L2 norm of all gradients, averaged over the epoch's steps.
    pub grad_norm: f64,
    /// L2 norm of all weights at the end of the epoch.
    pub weight_norm: f64,
    pub learning_rate: f64,
    pub seconds: f64,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub epochs: Vec<EpochMetrics>,
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
    pub parameters: u64,
    pub seconds: f64,
    /// Why a run diverged or failed.
    pub note: Option<String>,
}

impl RunOutcome {
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }

    /// Final validation accuracy, the number a sweep ranks runs by.
    pub fn val_accuracy(&self) -> Option<f64> {
        self.last().map(|e| e.val_accuracy)
    }
}
