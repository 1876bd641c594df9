//! [`GroupWorker`]: a group-commit thread. Callers queue jobs; the thread takes everything
//! queued since its last round and handles it as one round (one WAL sync, one `syncfs`), so
//! the cost of a durable write is shared by every request waiting for it.

use std::io;
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

/// A group-commit thread fed by a queue of `J`.
///
/// Dropping it closes the queue, lets the thread finish the rounds already queued and joins
/// it, so nothing the thread owns outlives the drop. (The Raft log's sync thread once released
/// its database handle after the store was gone; closing RocksDB on a detached thread while the
/// process exited corrupted the heap.)
pub struct GroupWorker<J> {
    tx: Mutex<Option<mpsc::Sender<J>>>,
    thread: Option<JoinHandle<()>>,
}

impl<J: Send + 'static> GroupWorker<J> {
    /// Start a thread named `name` that calls `round` with each batch of queued jobs, in
    /// queue order.
    pub fn spawn(name: &str, mut round: impl FnMut(Vec<J>) + Send + 'static) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<J>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    jobs.extend(rx.try_iter());
                    round(jobs);
                }
            })?;
        Ok(GroupWorker {
            tx: Mutex::new(Some(tx)),
            thread: Some(thread),
        })
    }

    /// Queue a job; gives it back if the worker has stopped.
    pub fn submit(&self, job: J) -> Result<(), J> {
        match self.tx.lock() {
            Ok(tx) => match tx.as_ref() {
                Some(tx) => tx.send(job).map_err(|e| e.0),
                None => Err(job),
            },
            Err(_) => Err(job),
        }
    }
}

impl<J> Drop for GroupWorker<J> {
    fn drop(&mut self) {
        // Close the queue (a poisoned lock still holds the sender), then wait for the thread.
        match self.tx.lock() {
            Ok(mut tx) => drop(tx.take()),
            Err(poisoned) => drop(poisoned.into_inner().take()),
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;

    #[test]
    fn drop_finishes_queued_rounds_and_releases_what_the_thread_holds() {
        let held = Arc::new(());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (h, s) = (held.clone(), seen.clone());
        let w = GroupWorker::spawn("test-group", move |jobs: Vec<u32>| {
            let _keep = &h;
            s.lock().unwrap().extend(jobs);
        })
        .unwrap();
        for i in 0..100 {
            w.submit(i).unwrap();
        }
        drop(w);
        assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
        assert_eq!(Arc::strong_count(&held), 1, "the thread's clone is gone");
    }
}
