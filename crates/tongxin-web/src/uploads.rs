//! Serving files that users uploaded (activity photos, study materials) so that a browser can
//! never run one as a page of this site.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::pages::chrome::encode_query_value;

/// Shown in the page, or offered as a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// The kinds of image a photo may be shown as; anything else is only downloaded.
const INLINE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// A user's file with the type checked at upload, a file name, and a sandbox policy: even if
/// its bytes are also a valid HTML page, a browser renders it in an origin of its own with no
/// scripts (`nosniff` is set on every response). Only the image types are shown inline.
pub fn user_file(
    media_type: &str,
    file_name: &str,
    bytes: Vec<u8>,
    disposition: Disposition,
) -> Response {
    let inline = disposition == Disposition::Inline && INLINE_TYPES.contains(&media_type);
    let (kind, media_type) = if inline || disposition == Disposition::Attachment {
        (if inline { "inline" } else { "attachment" }, media_type)
    } else {
        ("attachment", "application/octet-stream")
    };
    let ascii_name: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let content_disposition = format!(
        "{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        encode_query_value(file_name)
    );
    (
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (header::CONTENT_DISPOSITION, content_disposition),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
