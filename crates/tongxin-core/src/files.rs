//! Uploaded files: what an image's bytes say it is, checked against what its name says.

use crate::error::{Field, Invalid, Reason};

/// Largest photo accepted, in MiB.
pub const MAX_PHOTO_MIB: u64 = 10;

/// The media type of a photo (JPEG, PNG, WebP or GIF), if its bytes are what its extension
/// promises.
pub fn photo_media_type(file_name: &str, bytes: &[u8]) -> Result<&'static str, Invalid> {
    let field = Field::Named("photo");
    if bytes.len() as u64 > MAX_PHOTO_MIB * 1024 * 1024 {
        return Err(Invalid::new(
            field,
            Reason::FileTooLarge {
                max_mib: MAX_PHOTO_MIB,
            },
        ));
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let (media_type, magic_ok) = match ext.as_str() {
        "jpg" | "jpeg" => ("image/jpeg", bytes.starts_with(&[0xFF, 0xD8, 0xFF])),
        "png" => ("image/png", bytes.starts_with(b"\x89PNG\r\n\x1a\n")),
        "gif" => (
            "image/gif",
            bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        ),
        "webp" => (
            "image/webp",
            bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP",
        ),
        _ => return Err(Invalid::new(field, Reason::UnknownFileKind)),
    };
    if magic_ok {
        Ok(media_type)
    } else {
        Err(Invalid::new(field, Reason::ContentMismatch))
    }
}

/// Largest file attached to a case, in MiB.
pub const MAX_CASE_FILE_MIB: u64 = 20;

/// The media type of a file attached to a case (a photo, PDF, Word or Excel document, or
/// plain text), if its bytes are what its extension promises.
pub fn case_file_media_type(file_name: &str, bytes: &[u8]) -> Result<&'static str, Invalid> {
    let field = Field::Named("file");
    if bytes.len() as u64 > MAX_CASE_FILE_MIB * 1024 * 1024 {
        return Err(Invalid::new(
            field,
            Reason::FileTooLarge {
                max_mib: MAX_CASE_FILE_MIB,
            },
        ));
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let (media_type, magic_ok) = match ext.as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" => {
            return photo_media_type(file_name, bytes).map_err(|e| Invalid::new(field, e.reason));
        }
        "pdf" => ("application/pdf", bytes.starts_with(b"%PDF-")),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            zip,
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            zip,
        ),
        "txt" => ("text/plain", std::str::from_utf8(bytes).is_ok()),
        _ => return Err(Invalid::new(field, Reason::UnknownFileKind)),
    };
    if magic_ok {
        Ok(media_type)
    } else {
        Err(Invalid::new(field, Reason::ContentMismatch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_files_are_checked_by_content() {
        assert_eq!(
            case_file_media_type("a.pdf", b"%PDF-1.7"),
            Ok("application/pdf")
        );
        assert_eq!(
            case_file_media_type("a.pdf", b"<html>").map_err(|e| e.reason),
            Err(Reason::ContentMismatch)
        );
        assert_eq!(
            case_file_media_type("a.png", b"GIF89a").map_err(|e| e.field),
            Err(Field::Named("file"))
        );
        assert_eq!(
            case_file_media_type("a.exe", b"MZ").map_err(|e| e.reason),
            Err(Reason::UnknownFileKind)
        );
        let too_large = vec![b'a'; (MAX_CASE_FILE_MIB as usize) * 1024 * 1024 + 1];
        assert_eq!(
            case_file_media_type("a.txt", &too_large).map_err(|e| e.reason),
            Err(Reason::FileTooLarge {
                max_mib: MAX_CASE_FILE_MIB
            })
        );
    }

    #[test]
    fn content_must_match_the_extension() {
        assert_eq!(
            photo_media_type("a.JPG", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok("image/jpeg")
        );
        assert_eq!(
            photo_media_type("a.png", &[0xFF, 0xD8, 0xFF, 0xE0]).map_err(|e| e.reason),
            Err(Reason::ContentMismatch)
        );
        assert_eq!(
            photo_media_type("a.exe", b"MZ").map_err(|e| e.reason),
            Err(Reason::UnknownFileKind)
        );
    }
}
