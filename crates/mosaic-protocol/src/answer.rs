//! The final answer to a request.

/// How a request ended: its result, why there is none, or that a newer
/// request of the same kind replaced it (whose answer follows).
#[derive(Clone, Debug, PartialEq)]
pub enum Answer<T> {
    Ready(T),
    /// Why there is no result, in words for the user.
    Failed(String),
    /// A newer request of this kind arrived before this one was computed.
    Superseded,
}

impl<T> Answer<T> {
    /// The result as the view keeps it; `None` for a superseded answer,
    /// which the view ignores (the newer answer follows).
    pub fn into_result(self) -> Option<Result<T, String>> {
        match self {
            Answer::Ready(value) => Some(Ok(value)),
            Answer::Failed(reason) => Some(Err(reason)),
            Answer::Superseded => None,
        }
    }

    pub fn is_superseded(&self) -> bool {
        matches!(self, Answer::Superseded)
    }
}

impl<T, E: std::fmt::Display> From<Result<T, E>> for Answer<T> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Answer::Ready(value),
            Err(e) => Answer::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_results_and_superseded_ones_vanish() {
        assert_eq!(Answer::Ready(3).into_result(), Some(Ok(3)));
        assert_eq!(Answer::<i32>::Failed("no store".into()).into_result(), Some(Err("no store".into())));
        assert_eq!(Answer::<i32>::Superseded.into_result(), None);
        assert!(Answer::<i32>::Superseded.is_superseded() && !Answer::Ready(1).is_superseded());
        let failed: Answer<i32> = Err::<i32, _>("bad file").into();
        assert_eq!(failed, Answer::Failed("bad file".into()));
    }
}
