//! Argon2id password hashing, off the async threads (a hash takes tens of milliseconds and
//! 19 MiB), a few at a time: a burst of logins queues here instead of taking every core and a
//! slice of memory per attempt.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::{Result, StoreError};

/// Hashes running at once, across the process.
const CONCURRENT_HASHES: usize = 4;

fn hashing() -> &'static Semaphore {
    static PERMITS: Semaphore = Semaphore::const_new(CONCURRENT_HASHES);
    &PERMITS
}

/// Hashes a password to a PHC string with a fresh random salt.
pub(crate) async fn hash(password: String) -> Result<String> {
    let _permit = hashing().acquire().await;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(StoreError::Hash)
    })
    .await?
}

/// Whether `password` matches `phc`. A malformed stored hash never matches.
pub(crate) async fn verify(password: String, phc: String) -> bool {
    let _permit = hashing().acquire().await;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// Spends the same effort as a real verification, for logins with an unknown user name, so
/// response time does not reveal which names exist.
pub(crate) async fn verify_nothing(password: String) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = match DUMMY.get() {
        Some(phc) => phc.clone(),
        None => match hash(random_secret(16)).await {
            Ok(phc) => DUMMY.get_or_init(|| phc).clone(),
            Err(_) => return,
        },
    };
    verify(password, phc).await;
}

/// A fresh password for a new or reset account, shown once to the administrator.
pub fn generate_password() -> String {
    random_secret(14)
}

/// A random string of `n` characters from an alphabet without look-alikes (no 0/O, 1/l/I),
/// for generated passwords.
fn random_secret(n: usize) -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
