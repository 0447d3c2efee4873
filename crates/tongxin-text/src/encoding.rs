//! Text files as Chinese offices save them: UTF-8 (with or without a BOM), UTF-16 from Excel's
//! "Unicode text", or GBK/GB18030 from Excel's CSV. Detected, never asked.

use std::borrow::Cow;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Some lines are UTF-8 and others are not: the file was pieced together from sources with
    /// different encodings. `line` is the first line in the other encoding (1-based).
    MixedEncodings { line: usize },
    /// The bytes are neither UTF-8, UTF-16 nor GB18030; `line` is where reading failed.
    Unreadable { line: usize },
}

/// The encoding a file was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Gb18030,
}

/// Decodes a text file, detecting its encoding. UTF-8 is borrowed, not copied, so a large file
/// costs its size once.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), DecodeError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .map(|s| (Cow::Borrowed(s), Encoding::Utf8))
            .map_err(|e| DecodeError::Unreadable {
                line: line_of(rest, e.valid_up_to()),
            });
    }
    for (bom, encoding) in [([0xFF, 0xFE], UTF_16LE), ([0xFE, 0xFF], UTF_16BE)] {
        if let Some(rest) = bytes.strip_prefix(&bom) {
            return encoding
                .decode_without_bom_handling_and_without_replacement(rest)
                .map(|s| (Cow::Owned(s.into_owned()), Encoding::Utf16))
                .ok_or(DecodeError::Unreadable { line: 1 });
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(text), Encoding::Utf8));
    }
    // Not UTF-8 as a whole. If some non-ASCII lines are valid UTF-8 while others are not, the
    // file mixes encodings; decoding it either way would garble part of it.
    let mut utf8_line = None;
    let mut other_line = None;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.is_ascii() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(_) => utf8_line = utf8_line.or(Some(i + 1)),
            Err(_) => other_line = other_line.or(Some(i + 1)),
        }
    }
    if let (Some(utf8), Some(other)) = (utf8_line, other_line) {
        return Err(DecodeError::MixedEncodings {
            line: utf8.max(other),
        });
    }
    GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| (Cow::Owned(s.into_owned()), Encoding::Gb18030))
        .ok_or(DecodeError::Unreadable {
            line: other_line.unwrap_or(1),
        })
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_what_excel_writes() {
        let text = "姓名,单位代码\n张伟,150105\n";
        assert_eq!(
            decode(text.as_bytes()).map(|(t, e)| (t.into_owned(), e)),
            Ok((text.to_owned(), Encoding::Utf8))
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(
            decode(&bom).map(|(t, e)| (t.into_owned(), e)),
            Ok((text.to_owned(), Encoding::Utf8))
        );
        let (gbk, _, _) = GB18030.encode(text);
        assert_eq!(
            decode(&gbk).map(|(t, e)| (t.into_owned(), e)),
            Ok((text.to_owned(), Encoding::Gb18030))
        );
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            decode(&utf16).map(|(t, e)| (t.into_owned(), e)),
            Ok((text.to_owned(), Encoding::Utf16))
        );
    }

    #[test]
    fn refuses_mixed_encodings_naming_the_line() {
        let (gbk_line, _, _) = GB18030.encode("李娜,150105\n");
        let mut mixed = "姓名,单位代码\n张伟,150105\n".as_bytes().to_vec();
        mixed.extend_from_slice(&gbk_line);
        assert_eq!(
            decode(&mixed).map(|(t, e)| (t.into_owned(), e)),
            Err(DecodeError::MixedEncodings { line: 3 })
        );
    }
}
