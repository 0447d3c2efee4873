//! Matching a user's text with `LIKE`, literally: `%`, `_` and `\` in the text are escaped, so
//! `q=%` finds names containing a percent sign instead of listing everyone by a full scan.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};

/// The column contains `text`.
pub(crate) fn contains(column: impl ColumnTrait, text: &str) -> Expr {
    pattern(column, format!("%{}%", escape(text)))
}

/// The column starts with `text`.
pub(crate) fn starts_with(column: impl ColumnTrait, text: &str) -> Expr {
    pattern(column, format!("{}%", escape(text)))
}

fn pattern(column: impl ColumnTrait, pattern: String) -> Expr {
    Expr::col(column.as_column_ref()).like(LikeExpr::new(pattern).escape('\\'))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn wildcards_are_matched_literally() {
        assert_eq!(escape("100%_a\\b"), "100\\%\\_a\\\\b");
        assert_eq!(escape("建国"), "建国");
    }
}
