//! Store calls that run to their end once started, even when the request that started them is
//! dropped (a server timeout, a client that went away, a `select!`).
//!
//! A claim, a completion or a release that is dropped halfway leaves the store in a state
//! nobody will mend: a claim granted to a request that is gone, or a handler that succeeded but
//! was never recorded as done, both answer 409 until the lease ends, and the second then runs
//! the handler again. With Redis a drop needs no bad timing to do this: redis-rs does not send
//! a queued command whose caller is gone.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::store::StoreError;

/// A call to the store that, once started, runs to its end.
///
/// Awaited, it polls the call in place: the memory store's calls finish on their first poll,
/// and nothing more happens. Dropped while the call is still pending, it hands the call to a
/// task spawned on the current Tokio runtime (feature `tokio`), which finishes it and then gives
/// its answer to [`Abandoned::abandoned`]. Without the feature, or outside a Tokio runtime, the
/// call is dropped: a claim then lapses when its lease ends.
///
/// The call is boxed so that it can move to that task after it was first polled.
pub(crate) struct StoreCall<F>
where
    F: Future + Send + 'static,
    F::Output: Abandoned,
{
    /// `None` once the call has answered (or panicked while polled).
    call: Option<Pin<Box<F>>>,
}

/// What is still to do with a store call's answer once nobody waits for it.
pub(crate) trait Abandoned: Send + Sized + 'static {
    /// Acts on the answer of a call whose caller is gone: a claim granted to it is released.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    fn abandoned(self) -> impl Future<Output = ()> + Send;
}

/// A completion or a release: the store has done it, nothing is left to do.
impl Abandoned for Result<(), StoreError> {
    async fn abandoned(self) {}
}

impl<F> StoreCall<F>
where
    F: Future + Send + 'static,
    F::Output: Abandoned,
{
    pub(crate) fn new(call: F) -> Self {
        Self {
            call: Some(Box::pin(call)),
        }
    }
}

impl<F> Future for StoreCall<F>
where
    F: Future + Send + 'static,
    F::Output: Abandoned,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Taken out while it is polled: a call that panics is not handed to a task.
        let Some(mut call) = self.call.take() else {
            // Polled again after it answered, which `.await` never does.
            return Poll::Pending;
        };
        match call.as_mut().poll(cx) {
            Poll::Ready(answer) => Poll::Ready(answer),
            Poll::Pending => {
                self.call = Some(call);
                Poll::Pending
            }
        }
    }
}

impl<F> Drop for StoreCall<F>
where
    F: Future + Send + 'static,
    F::Output: Abandoned,
{
    fn drop(&mut self) {
        #[cfg(feature = "tokio")]
        if let Some(call) = self.call.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            drop(runtime.spawn(async move { call.await.abandoned().await }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::task::Waker;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its answers; pending on its first poll, ready on the next.
    struct Answered(Arc<AtomicUsize>);

    impl Abandoned for Answered {
        async fn abandoned(self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    async fn call_pending_once(seen: Arc<AtomicUsize>) -> Answered {
        let mut first = true;
        core::future::poll_fn(|cx| {
            if core::mem::take(&mut first) {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        Answered(seen)
    }

    #[test]
    fn an_awaited_call_answers_its_caller() {
        let seen = Arc::new(AtomicUsize::new(0));
        let mut call = StoreCall::new(call_pending_once(Arc::clone(&seen)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut call).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut call).poll(&mut cx).is_ready());
        drop(call);
        assert_eq!(seen.load(Ordering::SeqCst), 0, "answered, not abandoned");
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn a_call_dropped_halfway_is_finished_on_the_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        runtime.block_on(async {
            let mut call = StoreCall::new(call_pending_once(Arc::clone(&seen)));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(Pin::new(&mut call).poll(&mut cx).is_pending());
            drop(call);
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        });
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn outside_a_runtime_a_dropped_call_is_dropped() {
        let seen = Arc::new(AtomicUsize::new(0));
        let mut call = StoreCall::new(call_pending_once(Arc::clone(&seen)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut call).poll(&mut cx).is_pending());
        drop(call);
        assert_eq!(seen.load(Ordering::SeqCst), 0);
    }
}
