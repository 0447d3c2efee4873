//! Limits on failed logins per client address and per typed account name, checked before any
//! password is hashed: guessing many passwords for one account, or one password for many
//! accounts from one address, is slowed to a crawl, and hashing cannot be made to fill the CPU.
//! Successful logins do not count, so an office behind one address is not locked out by its
//! own colleagues.
//! The account lockout in the store remains the durable limit; these windows live in the
//! process (behind several servers, each keeps its own).

use std::collections::HashMap;
use std::sync::Mutex;

use tongxin_core::Timestamp;

/// How long a window of attempts lasts.
const WINDOW_SECONDS: i64 = 10 * 60;

/// Failed logins per window from one client address.
const PER_ADDRESS: u32 = 30;

/// Failed logins per window at one typed account name.
const PER_NAME: u32 = 10;

/// Windows kept at most; expired ones are dropped first, so a flood of invented names costs a
/// bounded amount of memory.
const MAX_WINDOWS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(String),
    Name(String),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Timestamp,
    failures: u32,
}

/// The attempt windows of this process.
#[derive(Default)]
pub struct LoginThrottle {
    windows: Mutex<HashMap<Key, Window>>,
}

impl LoginThrottle {
    /// Refuses a login attempt from `address` at `name`, with the seconds to wait, when either
    /// has failed too often in its current window.
    pub fn check(&self, now: Timestamp, address: Option<&str>, name: &str) -> Result<(), u64> {
        let windows = self.lock();
        for (key, limit) in keys(address, name) {
            if let Some(window) = windows.get(&key).filter(|w| !expired(w, now))
                && window.failures >= limit
            {
                let ends = window.started.micros() / 1_000_000 + WINDOW_SECONDS;
                let wait = ends - now.micros() / 1_000_000;
                return Err(u64::try_from(wait.max(1)).unwrap_or(1));
            }
        }
        Ok(())
    }

    /// Counts a failed login from `address` at `name`.
    pub fn failed(&self, now: Timestamp, address: Option<&str>, name: &str) {
        let mut windows = self.lock();
        if windows.len() >= MAX_WINDOWS {
            windows.retain(|_, w| !expired(w, now));
        }
        for (key, _) in keys(address, name) {
            if windows.len() >= MAX_WINDOWS && !windows.contains_key(&key) {
                continue;
            }
            let window = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if expired(window, now) {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures += 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The windows an attempt counts in, with their limits.
fn keys(address: Option<&str>, name: &str) -> Vec<(Key, u32)> {
    let mut keys = vec![(Key::Name(name.trim().to_lowercase()), PER_NAME)];
    if let Some(address) = address {
        keys.push((Key::Address(address.to_owned()), PER_ADDRESS));
    }
    keys
}

fn expired(window: &Window, now: Timestamp) -> bool {
    now.micros() - window.started.micros() >= WINDOW_SECONDS * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_limited_then_freed_when_its_window_ends() {
        let throttle = LoginThrottle::default();
        let start = Timestamp::from_micros(1_000_000_000_000);
        for n in 0..PER_NAME {
            let address = format!("10.0.0.{n}");
            assert_eq!(throttle.check(start, Some(&address), "Admin"), Ok(()));
            throttle.failed(start, Some(&address), "Admin");
        }
        assert_eq!(
            throttle.check(start.plus_seconds(60), Some("10.9.9.9"), " admin "),
            Err(540)
        );
        let later = start.plus_seconds(WINDOW_SECONDS);
        assert_eq!(throttle.check(later, Some("10.9.9.9"), "admin"), Ok(()));
    }

    #[test]
    fn an_address_is_limited_across_names() {
        let throttle = LoginThrottle::default();
        let now = Timestamp::from_micros(1_000_000_000_000);
        for n in 0..PER_ADDRESS {
            throttle.failed(now, Some("10.0.0.1"), &format!("u{n}"));
        }
        assert!(throttle.check(now, Some("10.0.0.1"), "another").is_err());
        assert_eq!(throttle.check(now, Some("10.0.0.2"), "another"), Ok(()));
    }
}
