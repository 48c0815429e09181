//! A window draws only when something changed: it sleeps until input, an
//! animation asks for frames (`RequestRedraw`), or compute sends an update.
//! Winit cannot see the compute channel, so a thread forwards its updates
//! to the view and wakes the window: at once for an answer someone waits
//! for, and at most a few times a second for progress, so a sweep training
//! beside the window keeps the cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::render_resource::PipelineCache;
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::winit::{EventLoopProxy, EventLoopProxyWrapper, WinitUserEvent};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use crate::bridge::{SceneFeed, SceneUpdate};

/// Least time between two wakes for progress (a run finished, a status line).
pub const PROGRESS_WAKE: Duration = Duration::from_millis(250);

pub struct WakeOnUpdatesPlugin;

impl Plugin for WakeOnUpdatesPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, forward_feed);
        // Pipelines compile in the background: the frame that asked for one
        // draws without it, and with nothing else to wake the window the view
        // would stay unfinished (blank at start, a landscape missing) until
        // the next input. The render world wakes the window until all are ready.
        let proxy = app.world().get_resource::<EventLoopProxyWrapper>().map(|p| (**p).clone());
        let compiling = PipelinesCompiling::default();
        app.insert_resource(compiling.clone());
        if let (Some(proxy), Some(render)) = (proxy, app.get_sub_app_mut(RenderApp)) {
            render
                .insert_resource(WindowWaker { proxy, compiling })
                .add_systems(Render, wake_while_pipelines_compile.in_set(RenderSystems::Cleanup));
        }
    }
}

/// Whether render pipelines were still compiling at the last frame: until
/// they are not, what the window shows is unfinished.
#[derive(Resource, Clone, Default)]
pub struct PipelinesCompiling(Arc<AtomicBool>);

impl PipelinesCompiling {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Resource)]
struct WindowWaker {
    proxy: EventLoopProxy<WinitUserEvent>,
    compiling: PipelinesCompiling,
}

/// Wakes the window for another frame while pipelines compile, and once
/// more when the last is ready, so that frame draws with it.
fn wake_while_pipelines_compile(cache: Res<PipelineCache>, waker: Res<WindowWaker>) {
    let compiling = cache.waiting_pipelines().next().is_some();
    let was = waker.compiling.0.swap(compiling, Ordering::Relaxed);
    if compiling || was {
        let _ = waker.proxy.send_event(WinitUserEvent::WakeUp);
    }
}

/// Puts the forwarding thread between compute and the bridge.
fn forward_feed(mut commands: Commands, feed: Option<Res<SceneFeed>>, proxy: Res<EventLoopProxyWrapper>) -> Result {
    let Some(feed) = feed else { return Ok(()) };
    let (upstream, (to_view, from_thread)) = (feed.0.clone(), unbounded());
    let proxy = (**proxy).clone();
    std::thread::Builder::new()
        .name("wake-view".into())
        .spawn(move || forward(&upstream, &to_view, PROGRESS_WAKE, || proxy.send_event(WinitUserEvent::WakeUp).is_ok()))?;
    commands.insert_resource(SceneFeed(from_thread));
    Ok(())
}

/// Passes every update from `from` to `to` in order and calls `wake` after
/// it: at once for a final answer, otherwise no sooner than `spacing` after
/// the last wake (updates in between wait for that one). Returns when
/// either end is gone or `wake` fails (the window closed).
pub fn forward(from: &Receiver<SceneUpdate>, to: &Sender<SceneUpdate>, spacing: Duration, wake: impl Fn() -> bool) {
    let mut last_wake: Option<Instant> = None;
    // An update was passed on since the last wake.
    let mut owed = false;
    loop {
        let next = match (owed, last_wake) {
            (true, Some(at)) => from.recv_deadline(at + spacing),
            _ => from.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let urgent = match next {
            Ok(update) => {
                let urgent = update.is_final_answer();
                if to.send(update).is_err() {
                    return;
                }
                owed = true;
                urgent || last_wake.is_none_or(|at| at.elapsed() >= spacing)
            }
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) => {
                if owed {
                    wake();
                }
                return;
            }
        };
        if urgent && owed {
            if !wake() {
                return;
            }
            (last_wake, owed) = (Some(Instant::now()), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::bridge::Answer;

    #[test]
    fn progress_wakes_a_few_times_a_second_and_answers_at_once() {
        let (tx, from) = unbounded();
        let (to, rx) = unbounded();
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = wakes.clone();
        let spacing = Duration::from_millis(200);
        let thread = std::thread::spawn(move || {
            forward(&from, &to, spacing, || {
                counted.fetch_add(1, Ordering::SeqCst);
                true
            })
        });
        // A burst of progress: one wake for the first, one owed for the rest.
        for i in 0..50 {
            tx.send(SceneUpdate::Status(format!("trained {i}"))).unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "the first update wakes the view, the burst waits");
        assert_eq!(rx.try_iter().count(), 50, "every update is passed on, in order, before its wake");
        std::thread::sleep(spacing * 2);
        assert_eq!(wakes.load(Ordering::SeqCst), 2, "the burst's wake comes when the spacing has passed");
        // Progress after a quiet spell wakes at once; an answer right after
        // it does not wait for the spacing either.
        tx.send(SceneUpdate::Status("landscape…".into())).unwrap();
        tx.send(SceneUpdate::Clusters(Answer::Ready(vec![]))).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(wakes.load(Ordering::SeqCst), 4);
        let passed: Vec<SceneUpdate> = rx.try_iter().collect();
        assert!(matches!(passed.as_slice(), [SceneUpdate::Status(_), SceneUpdate::Clusters(_)]), "{passed:?}");
        // Nothing more arrives: no more wakes, and the thread ends with the channel.
        std::thread::sleep(spacing * 2);
        assert_eq!(wakes.load(Ordering::SeqCst), 4, "an idle feed never wakes the view");
        drop(tx);
        thread.join().unwrap();
    }

    #[test]
    fn a_closed_window_ends_the_thread() {
        let (tx, from) = unbounded();
        let (to, rx) = unbounded::<SceneUpdate>();
        drop(rx);
        tx.send(SceneUpdate::Status("x".into())).unwrap();
        // Returns rather than blocking: the view's end is gone.
        forward(&from, &to, PROGRESS_WAKE, || true);
    }
}
