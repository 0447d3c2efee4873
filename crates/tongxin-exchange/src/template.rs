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

/// An import template as an XLSX workbook: the header row, and for single-choice fields a
/// drop-down of the choices (where the list fits Excel's 255-character limit).
pub fn template_xlsx(
    sector: Option<&SectorView>,
    enabled: &[SensitiveField],
) -> Result<Vec<u8>, ExchangeError> {
    let header = template_header(sector, enabled);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in header.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, title, &bold)?;
        sheet.set_column_width(col, 14)?;
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
