//! The text of an uploaded document (plain text, HTML or DOCX), read within limits that stop
//! oversized files and zip bombs before anything is unpacked, and refused when the content does
//! not match the file's extension.

use std::io::{Cursor, Read};

use quick_xml::escape::{resolve_html5_entity, unescape_with};
use quick_xml::events::Event;

use crate::encoding::{DecodeError, decode};

/// The kinds of document the material library reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Text,
    Html,
    Docx,
}

impl DocumentKind {
    /// The kind a file name's extension promises, if it is one the library reads.
    pub fn from_name(name: &str) -> Option<DocumentKind> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "txt" => Some(DocumentKind::Text),
            "html" | "htm" => Some(DocumentKind::Html),
            "docx" => Some(DocumentKind::Docx),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Text => "txt",
            DocumentKind::Html => "html",
            DocumentKind::Docx => "docx",
        }
    }
}

/// Size limits of a document.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Largest total unpacked size of a DOCX archive, in bytes.
    pub max_unpacked: u64,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            max_bytes: 10 * 1024 * 1024,
            max_unpacked: 100 * 1024 * 1024,
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the file's extension is not one of .txt, .html, .docx")]
    UnknownKind,
    #[error("the file is not a DOCX document (not a zip archive)")]
    NotZip,
    #[error("the document would unpack to over {limit} bytes (a zip bomb?)")]
    ZipBomb { limit: u64 },
    #[error("not a readable DOCX document: {0}")]
    BadDocx(String),
    #[error("the content is not {expected} text (binary data under a text extension)")]
    ContentMismatch { expected: &'static str },
    #[error("the text's encoding could not be read")]
    Unreadable,
}

/// The plain text of a document: paragraphs separated by newlines.
pub fn extract_text(
    bytes: &[u8],
    kind: DocumentKind,
    limits: &DocumentLimits,
) -> Result<String, DocumentError> {
    if bytes.len() > limits.max_bytes {
        return Err(DocumentError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    match kind {
        DocumentKind::Docx => docx_text(bytes, limits),
        DocumentKind::Text | DocumentKind::Html => {
            if looks_binary(bytes) {
                return Err(DocumentError::ContentMismatch {
                    expected: kind.key(),
                });
            }
            let (text, _) = decode(bytes).map_err(|e| match e {
                DecodeError::MixedEncodings { .. } | DecodeError::Unreadable { .. } => {
                    DocumentError::Unreadable
                }
            })?;
            Ok(match kind {
                DocumentKind::Html => html_text(&text),
                _ => text.replace("\r\n", "\n"),
            })
        }
    }
}

/// Archives, PDFs, images and anything with NUL bytes outside UTF-16 are not text.
fn looks_binary(bytes: &[u8]) -> bool {
    const MAGIC: [&[u8]; 5] = [
        b"PK\x03\x04",
        b"%PDF",
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"\xD0\xCF\x11\xE0",
    ];
    if MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return true;
    }
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    !utf16 && bytes.iter().take(8192).any(|&b| b == 0)
}

/// Checks the declared unpacked size of every entry of a zip archive before any is inflated.
pub fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<(), ArchiveError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ArchiveError::Unreadable(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| ArchiveError::Unreadable(e.to_string()))?;
        total = total.saturating_add(entry.size());
        if total > limit {
            return Err(ArchiveError::TooLarge { limit });
        }
    }
    Ok(())
}

/// Why a zip archive was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    Unreadable(String),
    TooLarge { limit: u64 },
}

fn docx_text(bytes: &[u8], limits: &DocumentLimits) -> Result<String, DocumentError> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(DocumentError::NotZip);
    }
    check_unpacked_size(bytes, limits.max_unpacked).map_err(|e| match e {
        ArchiveError::Unreadable(why) => DocumentError::BadDocx(why),
        ArchiveError::TooLarge { limit } => DocumentError::ZipBomb { limit },
    })?;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| DocumentError::BadDocx(e.to_string()))?;
    let mut part = archive
        .by_name("word/document.xml")
        .map_err(|_| DocumentError::BadDocx("word/document.xml is missing".into()))?;
    let mut xml = String::new();
    // The declared size was checked; `take` also bounds a lying header.
    (&mut part)
        .take(limits.max_unpacked)
        .read_to_string(&mut xml)
        .map_err(|e| DocumentError::BadDocx(e.to_string()))?;
    word_xml_text(&xml).map_err(DocumentError::BadDocx)
}

/// Text runs (`w:t`) of WordprocessingML, a line per paragraph, tabs and breaks kept.
fn word_xml_text(xml: &str) -> Result<String, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) if e.name().as_ref() == "w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == "w:t" => in_text = false,
            Event::End(e) if e.name().as_ref() == "w:p" => out.push('\n'),
            Event::Empty(e) if e.name().as_ref() == "w:tab" => out.push('\t'),
            Event::Empty(e) if e.name().as_ref() == "w:br" => out.push('\n'),
            Event::Text(t) if in_text => {
                out.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if in_text => {
                out.push_str(&unescape_html(&format!("&{};", &*r)));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out.trim_end().to_owned())
}

/// Elements that start a new line of text.
const BLOCKS: [&str; 16] = [
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "blockquote",
    "table",
    "pre",
];

/// How deep the HTML walk recurses; deeper markup (never written by hand) is read flat.
const MAX_HTML_DEPTH: usize = 128;

/// The visible text of an HTML page: scripts and styles dropped, blocks on lines of their own,
/// character references resolved.
fn html_text(html: &str) -> String {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return String::new();
    };
    let mut out = String::new();
    for handle in dom.children() {
        append_node(&mut out, *handle, dom.parser(), 0);
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn append_node(out: &mut String, handle: tl::NodeHandle, parser: &tl::Parser<'_>, depth: usize) {
    let Some(node) = handle.get(parser) else {
        return;
    };
    match node {
        tl::Node::Raw(bytes) => append_collapsed(out, &unescape_html(&bytes.as_utf8_str())),
        tl::Node::Comment(_) => {}
        tl::Node::Tag(tag) => {
            let name = tag.name().as_utf8_str().to_ascii_lowercase();
            if matches!(name.as_str(), "script" | "style" | "head" | "title") {
                return;
            }
            let block = BLOCKS.contains(&name.as_str());
            if block {
                push_break(out);
            }
            if depth >= MAX_HTML_DEPTH {
                append_collapsed(out, &unescape_html(&tag.inner_text(parser)));
            } else {
                for child in tag.children().top().iter() {
                    append_node(out, *child, parser, depth + 1);
                }
            }
            if block {
                push_break(out);
            }
        }
    }
}

fn unescape_html(raw: &str) -> String {
    unescape_with(raw, resolve_html5_entity)
        .map(|t| t.into_owned())
        .unwrap_or_else(|_| raw.to_owned())
}

fn push_break(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Appends text with runs of whitespace collapsed to one space, as a browser shows it.
fn append_collapsed(out: &mut String, text: &str) {
    for (i, word) in text.split_whitespace().enumerate() {
        if (i > 0 || text.starts_with(char::is_whitespace))
            && !out.is_empty()
            && !out.ends_with(['\n', ' '])
        {
            out.push(' ');
        }
        out.push_str(word);
    }
    if text.ends_with(char::is_whitespace) && !text.trim().is_empty() {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn docx(document_xml: &str) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", options)
            .unwrap_or_default();
        zip.write_all(document_xml.as_bytes()).unwrap_or_default();
        zip.finish().map(|_| ()).unwrap_or_default();
        buf.into_inner()
    }

    #[test]
    fn docx_paragraphs_become_lines() {
        let xml = r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>第一段</w:t></w:r><w:r><w:t xml:space="preserve"> &amp; 续</w:t></w:r></w:p><w:p><w:r><w:t>第二段</w:t></w:r></w:p></w:body></w:document>"#;
        let text = extract_text(&docx(xml), DocumentKind::Docx, &DocumentLimits::default());
        assert_eq!(text, Ok("第一段 & 续\n第二段".to_owned()));
    }

    #[test]
    fn html_keeps_visible_text_only() {
        let html = "<html><head><title>t</title><style>p{}</style></head><body><h1>标题</h1><p>第一段&nbsp;文字 &amp; 更多</p><script>var x;</script><p>第二<b>段</b></p></body></html>";
        let text = extract_text(
            html.as_bytes(),
            DocumentKind::Html,
            &DocumentLimits::default(),
        );
        assert_eq!(text, Ok("标题\n第一段 文字 & 更多\n第二段".to_owned()));
    }

    #[test]
    fn refusals_name_the_problem() {
        let limits = DocumentLimits {
            max_bytes: 64,
            max_unpacked: 16,
        };
        assert_eq!(
            extract_text(b"hello", DocumentKind::Docx, &limits),
            Err(DocumentError::NotZip)
        );
        assert_eq!(
            extract_text(&[b'a'; 65], DocumentKind::Text, &limits),
            Err(DocumentError::TooLarge {
                size: 65,
                limit: 64
            })
        );
        assert_eq!(
            extract_text(b"%PDF-1.4", DocumentKind::Text, &limits),
            Err(DocumentError::ContentMismatch { expected: "txt" })
        );
        let big = docx(&"x".repeat(100));
        assert_eq!(
            extract_text(
                &big,
                DocumentKind::Docx,
                &DocumentLimits {
                    max_bytes: 10_000,
                    max_unpacked: 16
                }
            ),
            Err(DocumentError::ZipBomb { limit: 16 })
        );
    }
}
