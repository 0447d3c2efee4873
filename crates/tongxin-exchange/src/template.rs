//! Import templates: the columns a file may have, as an empty workbook or CSV to fill in.

use tongxin_core::PERSON_FIELDS;
use tongxin_store::{SectorFieldView, SectorView, SensitiveField};

use crate::ExchangeError;

/// The header of a sector's own field, as templates write it.
pub fn sector_field_header(sector: &SectorView, field: &SectorFieldView) -> String {
    format!("{}·{}", sector.name, field.label)
}

/// The headers of an import template: the common columns (ethnicity and religion only when
/// enabled) and, for a sector, its own fields.
pub fn template_header(sector: Option<&SectorView>, enabled: &[SensitiveField]) -> Vec<String> {
    let offered = |key: &str| match SensitiveField::parse(key) {
        Some(field) if field.needs_enabling() => enabled.contains(&field),
        _ => true,
    };
    let mut header: Vec<String> = PERSON_FIELDS
        .iter()
        .filter(|f| offered(f.key))
        .map(|f| f.header_zh.to_owned())
        .collect();
    if let Some(sector) = sector {
        header.extend(
            sector
                .active_fields()
                .map(|field| sector_field_header(sector, field)),
        );
    }
    header
}

/// The columns of long numbers, formatted as text in the template: a spreadsheet keeps only 15
/// digits of a number (an 18-digit ID number typed into a "General" cell becomes
/// `1.50102E+17`) and drops a leading zero.
pub const TEXT_COLUMNS: [&str; 3] = ["id_number", "phone", "unit"];

/// An import template as an XLSX workbook: the header row, the columns of long numbers as text,
/// and for single-choice fields a drop-down of the choices (where the list fits Excel's
/// 255-character limit).
pub fn template_xlsx(
    sector: Option<&SectorView>,
    enabled: &[SensitiveField],
) -> Result<Vec<u8>, ExchangeError> {
    let header = template_header(sector, enabled);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    // Built-in format 49 is "@", the one Excel and WPS name "Text".
    let text = rust_xlsxwriter::Format::new().set_num_format_index(49);
    let long_numbers: Vec<&str> = PERSON_FIELDS
        .iter()
        .filter(|f| TEXT_COLUMNS.contains(&f.key))
        .map(|f| f.header_zh)
        .collect();
    for (col, title) in header.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, title, &bold)?;
        if long_numbers.contains(&title.as_str()) {
            sheet.set_column_width(col, 22)?;
            sheet.set_column_format(col, &text)?;
        } else {
            sheet.set_column_width(col, 14)?;
        }
    }
    if let Some(sector) = sector {
        for field in sector.active_fields() {
            let Some(col) = header
                .iter()
                .position(|h| *h == sector_field_header(sector, field))
                .and_then(|c| u16::try_from(c).ok())
            else {
                continue;
            };
            let fits = field
                .choices
                .iter()
                .map(|c| c.chars().count() + 1)
                .sum::<usize>()
                < 255;
            if field.kind == tongxin_core::FieldKind::Choice && fits {
                let validation =
                    rust_xlsxwriter::DataValidation::new().allow_list_strings(&field.choices)?;
                sheet.add_data_validation(1, col, 100_000, col, &validation)?;
            }
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// An import template as CSV: UTF-8 with a BOM, so Excel opens it in Chinese.
pub fn template_csv(sector: Option<&SectorView>, enabled: &[SensitiveField]) -> Vec<u8> {
    let mut bytes = tongxin_tabular::UTF8_BOM.to_vec();
    bytes.extend(tongxin_tabular::csv_lines(&[template_header(
        sector, enabled,
    )]));
    bytes
}
