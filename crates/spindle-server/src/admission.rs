//! Admission of request bodies: a budget of body bytes in flight, charged as the bytes arrive,
//! and a number of requests being processed, each shared fairly between keys.
//!
//! A request holds a [`Ticket`] from its first body byte until it is answered. The ticket is
//! charged for every body byte received (and every byte of a decompressed body) and, once the
//! whole body is there, for one processing slot. When the budget of bytes or slots is spent,
//! or the request's key already holds its share, the charge fails and the request answers 429
//! with `Retry-After`; only a processing slot is waited for, a short bounded while
//! ([`AdmissionLimits::slot_wait`]), since slots come free as fast as batches commit and some
//! clients drop a batch answered 429 instead of retrying it. Everything is released when the ticket is dropped, so memory held by
//! bodies in flight never exceeds the byte budget, and a client that stalls while uploading
//! holds only the bytes it has sent (for at most the body-read timeout), never a slot.

use spindle_core::{Error, ErrorKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// The limits of [`Admission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Body bytes held by requests in flight, all keys together.
    pub max_bytes: usize,
    /// Requests processed at once (after their body arrived), all keys together.
    pub max_requests: usize,
    /// The largest single body; one key may always hold this much when the budget allows.
    pub max_body_bytes: usize,
    /// How long a request whose body arrived waits for a processing slot before it is
    /// refused. The wait holds the body's bytes, which stay within `max_bytes`.
    pub slot_wait: Duration,
}

impl AdmissionLimits {
    /// Bytes one key may hold: half of the budget, but at least one largest body.
    pub fn key_bytes(&self) -> usize {
        (self.max_bytes / 2)
            .max(self.max_body_bytes)
            .min(self.max_bytes)
    }

    /// Processing slots one key may hold: half of them, at least one.
    pub fn key_requests(&self) -> usize {
        (self.max_requests / 2).max(1)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Held {
    bytes: usize,
    requests: usize,
}

#[derive(Debug, Default)]
struct Books {
    total: Held,
    /// Only keys that hold something: an entry is removed when its last ticket is released,
    /// so the map never has more entries than there are tickets.
    keys: HashMap<Arc<str>, Held>,
}

/// The shared books of bytes and slots in flight.
#[derive(Debug)]
pub struct Admission {
    limits: AdmissionLimits,
    books: Mutex<Books>,
    /// Woken whenever a processing slot is released.
    slot_released: Notify,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Arc<Self> {
        Arc::new(Admission {
            limits,
            books: Mutex::new(Books::default()),
            slot_released: Notify::new(),
        })
    }

    pub fn limits(&self) -> AdmissionLimits {
        self.limits
    }

    /// A ticket for a request made with `key` (the fairness unit: an API key, with the
    /// public key used alone counted apart from the full key pair), holding nothing yet.
    pub fn ticket(self: &Arc<Self>, key: impl Into<Arc<str>>) -> Ticket {
        Ticket {
            admission: self.clone(),
            key: key.into(),
            held: Held::default(),
        }
    }

    /// Body bytes held right now by all requests (for metrics and tests).
    pub fn bytes_in_flight(&self) -> usize {
        self.books().total.bytes
    }

    /// Requests being processed right now.
    pub fn requests_in_flight(&self) -> usize {
        self.books().total.requests
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // The books hold plain counters, consistent after every statement: a panic elsewhere
        // while the lock was held cannot leave them half-updated.
        self.books
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn charge(&self, key: &Arc<str>, add: Held) -> Result<(), Error> {
        let limits = self.limits;
        let mut books = self.books();
        let key_held = books.keys.get(key).copied().unwrap_or_default();
        if books.total.bytes + add.bytes > limits.max_bytes {
            return Err(refused(
                "the server holds as many request body bytes as it may",
            ));
        }
        if key_held.bytes + add.bytes > limits.key_bytes() {
            return Err(refused(
                "this key holds its share of the request body bytes in flight",
            ));
        }
        if books.total.requests + add.requests > limits.max_requests {
            return Err(refused("too many ingestion requests in flight"));
        }
        if key_held.requests + add.requests > limits.key_requests() {
            return Err(refused(
                "this key has its share of the ingestion requests in flight",
            ));
        }
        books.total.bytes += add.bytes;
        books.total.requests += add.requests;
        let entry = books.keys.entry(key.clone()).or_default();
        entry.bytes += add.bytes;
        entry.requests += add.requests;
        Ok(())
    }

    fn release(&self, key: &Arc<str>, sub: Held) {
        if sub.bytes == 0 && sub.requests == 0 {
            return;
        }
        {
            let mut books = self.books();
            books.total.bytes -= sub.bytes;
            books.total.requests -= sub.requests;
            if let Some(entry) = books.keys.get_mut(key) {
                entry.bytes -= sub.bytes;
                entry.requests -= sub.requests;
                if entry.bytes == 0 && entry.requests == 0 {
                    books.keys.remove(key);
                }
            }
        }
        if sub.requests > 0 {
            self.slot_released.notify_waiters();
        }
    }
}

fn refused(reason: &str) -> Error {
    Error::new(
        ErrorKind::RateLimited,
        format!("{reason}; retry after the delay in Retry-After"),
    )
}

/// What one request holds; released when dropped.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    key: Arc<str>,
    held: Held,
}

impl Ticket {
    /// Charges `bytes` more body bytes, or fails with `RateLimited` (nothing charged).
    pub fn charge_bytes(&mut self, bytes: usize) -> Result<(), Error> {
        if bytes == 0 {
            return Ok(());
        }
        self.admission
            .charge(&self.key, Held { bytes, requests: 0 })?;
        self.held.bytes += bytes;
        Ok(())
    }

    /// Gives back `bytes` no longer held (a compressed body once decompressed).
    pub fn release_bytes(&mut self, bytes: usize) {
        let bytes = bytes.min(self.held.bytes);
        self.admission
            .release(&self.key, Held { bytes, requests: 0 });
        self.held.bytes -= bytes;
    }

    /// Takes a processing slot, waiting up to [`AdmissionLimits::slot_wait`] for one to be
    /// released when none is free (to the key or overall), then fails with `RateLimited`.
    pub async fn wait_for_slot(&mut self) -> Result<(), Error> {
        let admission = self.admission.clone();
        let deadline = tokio::time::Instant::now() + admission.limits.slot_wait;
        loop {
            // Registered before the attempt, so a release between the attempt and the wait
            // is not missed.
            let released = admission.slot_released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            match self.take_slot() {
                Ok(()) => return Ok(()),
                Err(refusal) => {
                    if tokio::time::timeout_at(deadline, released).await.is_err() {
                        return Err(refusal);
                    }
                }
            }
        }
    }

    /// Takes a processing slot, or fails with `RateLimited`. A ticket holds at most one.
    pub fn take_slot(&mut self) -> Result<(), Error> {
        if self.held.requests > 0 {
            return Ok(());
        }
        self.admission.charge(
            &self.key,
            Held {
                bytes: 0,
                requests: 1,
            },
        )?;
        self.held.requests = 1;
        Ok(())
    }

    /// A ticket of the same key holding nothing, to be charged elsewhere (on the blocking
    /// pool) and then [`absorb`](Ticket::absorb)ed.
    pub fn sibling(&self) -> Ticket {
        self.admission.ticket(self.key.clone())
    }

    /// Takes over what `other` (of the same admission) holds.
    pub fn absorb(&mut self, mut other: Ticket) {
        debug_assert!(Arc::ptr_eq(&self.admission, &other.admission));
        debug_assert_eq!(self.key, other.key);
        self.held.bytes += other.held.bytes;
        self.held.requests += other.held.requests;
        other.held = Held::default();
    }

    /// Body bytes this ticket holds.
    pub fn bytes(&self) -> usize {
        self.held.bytes
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(&self.key, self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max_bytes: usize, max_requests: usize, max_body_bytes: usize) -> Arc<Admission> {
        Admission::new(AdmissionLimits {
            max_bytes,
            max_requests,
            max_body_bytes,
            slot_wait: Duration::from_secs(60),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_waits_for_a_released_slot() {
        let admission = admission(1000, 2, 100);
        let mut first = admission.ticket("a");
        first.take_slot().expect("a's share");
        let mut waiting = admission.ticket("a");
        let waited = tokio::spawn(async move { waiting.wait_for_slot().await.map(|()| waiting) });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waited.is_finished(), "no slot is free to key a yet");
        drop(first);
        let waiting = waited.await.expect("joins").expect("the released slot");
        assert_eq!(admission.requests_in_flight(), 1);
        drop(waiting);
        assert_eq!(admission.requests_in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_for_a_slot_is_bounded() {
        let admission = admission(1000, 2, 100);
        let mut held = admission.ticket("a");
        held.take_slot().expect("a's share");
        let started = tokio::time::Instant::now();
        let refused = admission
            .ticket("a")
            .wait_for_slot()
            .await
            .expect_err("no slot comes free");
        assert_eq!(refused.kind, ErrorKind::RateLimited);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(60),
            "waited exactly slot_wait"
        );
        admission
            .ticket("b")
            .wait_for_slot()
            .await
            .expect("another key's share is free at once");
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }

    #[test]
    fn bytes_are_bounded_overall_and_per_key() {
        let admission = admission(1000, 10, 100);
        let mut greedy = admission.ticket("a");
        greedy.charge_bytes(500).expect("half of the budget");
        let refused = greedy.charge_bytes(1).expect_err("more than half");
        assert_eq!(refused.kind, ErrorKind::RateLimited);
        assert!(refused.message.contains("share"), "{}", refused.message);
        let mut other = admission.ticket("b");
        other.charge_bytes(500).expect("the other half");
        let mut third = admission.ticket("c");
        let refused = third.charge_bytes(1).expect_err("budget spent");
        assert!(refused.message.contains("as many"), "{}", refused.message);
        drop(greedy);
        third
            .charge_bytes(400)
            .expect("released bytes are free again");
        assert_eq!(admission.bytes_in_flight(), 900);
        drop(other);
        drop(third);
        assert_eq!(admission.bytes_in_flight(), 0);
        assert!(
            admission.books().keys.is_empty(),
            "no entry outlives its tickets"
        );
    }

    #[test]
    fn one_key_may_always_send_one_largest_body() {
        let admission = admission(1000, 10, 800);
        let mut ticket = admission.ticket("a");
        ticket.charge_bytes(800).expect("one largest body");
        assert!(ticket.charge_bytes(1).is_err());
    }

    #[test]
    fn slots_are_bounded_overall_and_per_key() {
        let admission = admission(1000, 4, 100);
        let mut tickets: Vec<Ticket> = (0..3).map(|_| admission.ticket("a")).collect();
        tickets[0].take_slot().expect("first");
        tickets[1].take_slot().expect("second: half of four");
        assert!(tickets[2].take_slot().is_err(), "a third is past the share");
        tickets[1]
            .take_slot()
            .expect("a ticket holds one slot, asking again is free");
        let mut others: Vec<Ticket> = (0..3).map(|_| admission.ticket("b")).collect();
        others[0].take_slot().expect("b's first");
        others[1].take_slot().expect("b's second");
        assert!(others[2].take_slot().is_err(), "all four taken");
        drop(tickets);
        assert!(others[2].take_slot().is_err(), "b still holds its share");
        admission
            .ticket("c")
            .take_slot()
            .expect("slots came free for another key");
        let mut held = admission.ticket("c");
        held.take_slot().expect("c's first");
        assert_eq!(admission.requests_in_flight(), 3);
    }

    #[test]
    fn released_bytes_leave_the_books() {
        let admission = admission(1000, 4, 100);
        let mut ticket = admission.ticket("a");
        ticket.charge_bytes(300).expect("charge");
        ticket.release_bytes(200);
        assert_eq!(ticket.bytes(), 100);
        ticket.release_bytes(500);
        assert_eq!(ticket.bytes(), 0);
        assert_eq!(admission.bytes_in_flight(), 0);
    }
}
