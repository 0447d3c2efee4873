//! Protection of sensitive personal fields at rest (DESIGN.md §2.4).
//!
//! Values are sealed with SM4-GCM (RFC 8998), a fresh random nonce per value and the place it
//! is stored (table, column and row id) as associated data, so a sealed value moved to another
//! column or another row does not open.
//! Equality lookups (duplicate ID numbers, phone search) use a blind index: HMAC-SM3 of the
//! value under a separate key, never the value itself. The audit chain is keyed (HMAC-SM3) so
//! that nobody without the key can rewrite rows and hash them again. All keys are derived with
//! HKDF-SM3 from the 256-bit master key in `TONGXIN_KEY_FILE`, which must be readable by its
//! owner alone.

use std::io::Write;
use std::path::Path;

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngExt;
use sm3::Sm3;
use sm4::Sm4;

type Sm4Gcm = AesGcm<Sm4, U12>;

/// Marks the format of sealed values, so keys or algorithms can change later: `v2` values are
/// bound to their row; `v1` values, written before, only to their column (see `sealing`).
const SEALED_PREFIX: &str = "v2:";
const UNBOUND_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Why key material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the key file {path} must hold 64 hexadecimal characters (a 256-bit key)")]
    Malformed { path: String },
    #[error(
        "the key file {path} may be read by others (mode {mode:o}): make it its owner's alone (chmod 600)"
    )]
    Exposed { path: String, mode: u32 },
}

/// A sealed value that does not open: wrong key, or altered.
#[derive(Debug, thiserror::Error)]
#[error("a protected value could not be decrypted (wrong key file, or the value was altered)")]
pub struct SealError;

/// Where a sealed value is stored: its table and column (`people.phone`) and its row's id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealedAt<'a> {
    pub column: &'a str,
    pub row: i64,
}

impl SealedAt<'_> {
    fn associated_data(&self) -> String {
        format!("{}#{}", self.column, self.row)
    }
}

/// The keys that protect sensitive fields.
pub struct FieldKeys {
    cipher: Sm4Gcm,
    index_key: [u8; 32],
    link_key: [u8; 32],
    audit_key: [u8; 32],
}

impl FieldKeys {
    /// Derives the field keys from a 256-bit master key.
    pub fn from_master(master: &[u8; 32]) -> FieldKeys {
        let hkdf = Hkdf::<Sm3>::new(Some(b"tongxin"), master);
        let mut enc = [0u8; 16];
        let mut index_key = [0u8; 32];
        // Expanding to these fixed, short lengths cannot fail.
        let _ = hkdf.expand(b"field-encryption sm4-gcm", &mut enc);
        let _ = hkdf.expand(b"blind-index hmac-sm3", &mut index_key);
        let mut link_key = [0u8; 32];
        let _ = hkdf.expand(b"signed-links hmac-sm3", &mut link_key);
        let mut audit_key = [0u8; 32];
        let _ = hkdf.expand(b"audit-chain hmac-sm3", &mut audit_key);
        FieldKeys {
            cipher: Sm4Gcm::new(&enc.into()),
            index_key,
            link_key,
            audit_key,
        }
    }

    /// Reads the master key from `path`, creating it (mode 0600, in a 0700 directory) with a
    /// fresh random key if the file does not exist; says whether it was created. A key file
    /// others may read is refused.
    pub fn load_or_create(path: &Path) -> Result<(FieldKeys, bool), KeyError> {
        let shown = path.display().to_string();
        let io = |source| KeyError::Io {
            path: shown.clone(),
            source,
        };
        let created = !path.exists();
        if created {
            let key: [u8; 32] = rand::rng().random();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
                restrict(dir, 0o700).map_err(io)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io)?;
            writeln!(file, "{}", hex::encode(key)).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        Ok((FieldKeys::load(path)?, created))
    }

    /// Reads the master key from an existing key file, refusing one others may read.
    pub fn load(path: &Path) -> Result<FieldKeys, KeyError> {
        let shown = path.display().to_string();
        let io = |source| KeyError::Io {
            path: shown.clone(),
            source,
        };
        if let Some(mode) = open_to_others(path).map_err(io)? {
            return Err(KeyError::Exposed { path: shown, mode });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed {
            path: shown.clone(),
        })?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Malformed { path: shown })?;
        Ok(FieldKeys::from_master(&master))
    }

    /// Encrypts `plain` for storage at `at`.
    pub(crate) fn seal(&self, at: SealedAt<'_>, plain: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let aad = at.associated_data();
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: aad.as_bytes(),
        };
        // Encryption into a Vec only fails for messages beyond GCM's 64 GiB limit.
        let sealed = self
            .cipher
            .encrypt(&nonce.into(), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", hex::encode(out))
    }

    /// Decrypts a value sealed for `at`; a value sealed elsewhere, or before values were bound
    /// to rows, does not open.
    pub(crate) fn open(&self, at: SealedAt<'_>, sealed: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or(SealError)?;
        self.decrypt(body, at.associated_data().as_bytes())
    }

    /// Decrypts a value written before values were bound to rows, with the associated data it
    /// was sealed under; only [`crate::Store::bind_sealed_values`] reads these.
    pub(crate) fn open_unbound(&self, associated: &str, sealed: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(UNBOUND_PREFIX).ok_or(SealError)?;
        self.decrypt(body, associated.as_bytes())
    }

    /// Whether `sealed` is in the format written before values were bound to rows.
    pub(crate) fn is_unbound(sealed: &str) -> bool {
        sealed.starts_with(UNBOUND_PREFIX)
    }

    /// Seals as values were sealed before they were bound to rows (format v1), for tests of
    /// the binding.
    #[cfg(test)]
    pub(crate) fn seal_unbound(&self, associated: &str, plain: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: associated.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&nonce.into(), payload)
            .unwrap_or_default();
        format!(
            "{UNBOUND_PREFIX}{}{}",
            hex::encode(nonce),
            hex::encode(sealed)
        )
    }

    fn decrypt(&self, hex_body: &str, aad: &[u8]) -> Result<String, SealError> {
        let bytes = hex::decode(hex_body)
            .ok()
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or(SealError)?;
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError)?;
        let plain = self
            .cipher
            .decrypt(&nonce.into(), Payload { msg: body, aad })
            .map_err(|_| SealError)?;
        String::from_utf8(plain).map_err(|_| SealError)
    }

    /// A keyed hash of `value` for equality lookups in `column`.
    pub(crate) fn blind_index(&self, column: &str, value: &str) -> String {
        let mut mac = <Hmac<Sm3>>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| <Hmac<Sm3>>::new(&Default::default()));
        mac.update(column.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl FieldKeys {
    fn link_mac(&self, message: &str) -> Hmac<Sm3> {
        let mut mac = <Hmac<Sm3>>::new_from_slice(&self.link_key)
            .unwrap_or_else(|_| <Hmac<Sm3>>::new(&Default::default()));
        mac.update(message.as_bytes());
        mac
    }

    /// A MAC for one row of the audit chain: without the key, a rewritten row cannot be given
    /// a hash that verifies.
    pub(crate) fn audit_mac(&self) -> Hmac<Sm3> {
        <Hmac<Sm3>>::new_from_slice(&self.audit_key)
            .unwrap_or_else(|_| <Hmac<Sm3>>::new(&Default::default()))
    }

    /// The signature of a link (a check-in link), hex.
    pub(crate) fn sign_link(&self, message: &str) -> String {
        hex::encode(self.link_mac(message).finalize().into_bytes())
    }

    /// Whether `signature` (hex) was made by [`FieldKeys::sign_link`] for `message`; compared in
    /// constant time.
    pub(crate) fn verify_link(&self, message: &str, signature: &str) -> bool {
        match hex::decode(signature) {
            Ok(bytes) => self.link_mac(message).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// The file's permission bits when its group or others may do anything with it.
#[cfg(unix)]
fn open_to_others(path: &Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    Ok((mode & 0o077 != 0).then_some(mode))
}

#[cfg(not(unix))]
fn open_to_others(_: &Path) -> std::io::Result<Option<u32>> {
    Ok(None)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> FieldKeys {
        FieldKeys::from_master(&[7u8; 32])
    }

    const AT: SealedAt<'static> = SealedAt {
        column: "people.id_number",
        row: 7,
    };

    #[test]
    fn sealed_values_open_only_in_their_column_and_row() {
        let keys = keys();
        let sealed = keys.seal(AT, "150102198001011234");
        assert!(!sealed.contains("150102"));
        assert_eq!(
            keys.open(AT, &sealed).ok().as_deref(),
            Some("150102198001011234")
        );
        let column = SealedAt {
            column: "people.phone",
            ..AT
        };
        assert!(keys.open(column, &sealed).is_err(), "bound to its column");
        let row = SealedAt { row: 8, ..AT };
        assert!(keys.open(row, &sealed).is_err(), "bound to its row");
        let other = keys.seal(AT, "150102198001011234");
        assert_ne!(sealed, other, "a fresh nonce every time");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert!(keys.open(AT, &tampered).is_err());
        assert!(
            FieldKeys::from_master(&[8u8; 32])
                .open(AT, &sealed)
                .is_err()
        );
    }

    #[test]
    fn unbound_values_open_only_through_the_binding() {
        let keys = keys();
        let old = keys.seal_unbound("id_number", "150102198001011234");
        assert!(FieldKeys::is_unbound(&old));
        assert!(keys.open(AT, &old).is_err(), "never read as a bound value");
        assert_eq!(
            keys.open_unbound("id_number", &old).ok().as_deref(),
            Some("150102198001011234")
        );
        assert!(keys.open_unbound("phone", &old).is_err());
        assert!(keys.open_unbound("id_number", &keys.seal(AT, "x")).is_err());
    }

    #[test]
    fn blind_indexes_are_stable_and_keyed() {
        let keys = keys();
        let a = keys.blind_index("phone", "13812345678");
        assert_eq!(a, keys.blind_index("phone", "13812345678"));
        assert_ne!(a, keys.blind_index("id_number", "13812345678"));
        assert_ne!(
            a,
            FieldKeys::from_master(&[8u8; 32]).blind_index("phone", "13812345678")
        );
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("tongxin-keys-{}", crate::random_hex()));
        let path = dir.join("keys").join("master.key");
        let (first, created) = FieldKeys::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(created);
        let sealed = first.seal(AT, "13812345678");
        let (again, created) = FieldKeys::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!created);
        assert_eq!(again.open(AT, &sealed).ok().as_deref(), Some("13812345678"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(
                FieldKeys::load_or_create(&path),
                Err(KeyError::Exposed { mode: 0o644, .. })
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&path, "not a key").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            FieldKeys::load_or_create(&path),
            Err(KeyError::Malformed { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
