//! The signals that stop a run: SIGINT (Ctrl-C), SIGTERM (a CI job
//! cancelled, `kill`, a container stopping) and SIGHUP (a terminal or an SSH
//! session closed). Each stops a run the same way: no new request starts and
//! what the run created is cleaned up. A second signal ends the process at
//! once, after saying how to remove what is left.

use crate::exec::Interrupt;

/// Completes at the next stop signal.
#[cfg(unix)]
async fn next_signal(signals: &mut UnixSignals) {
    tokio::select! {
        _ = signals.interrupt.recv() => {}
        _ = signals.terminate.recv() => {}
        _ = signals.hangup.recv() => {}
    }
}

#[cfg(unix)]
struct UnixSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
fn listen() -> std::io::Result<UnixSignals> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(UnixSignals {
        interrupt: signal(SignalKind::interrupt())?,
        terminate: signal(SignalKind::terminate())?,
        hangup: signal(SignalKind::hangup())?,
    })
}

/// The exit code of a process ended by a second signal: 128 + SIGINT.
pub const KILLED: i32 = 130;

/// Watches for stop signals from now on (call it from within the runtime,
/// before the first request): the first triggers `interrupt` and runs
/// `first`; a second runs `second` and ends the process with [`KILLED`].
pub fn watch(
    interrupt: Interrupt,
    first: impl FnOnce() + Send + 'static,
    second: impl FnOnce() + Send + 'static,
) {
    #[cfg(unix)]
    {
        // Registered now, so that a signal before the task runs is not lost.
        let Ok(mut signals) = listen() else {
            return;
        };
        tokio::spawn(async move {
            next_signal(&mut signals).await;
            interrupt.trigger();
            first();
            next_signal(&mut signals).await;
            second();
            std::process::exit(KILLED);
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupt.trigger();
            first();
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            second();
            std::process::exit(KILLED);
        }
    });
}
