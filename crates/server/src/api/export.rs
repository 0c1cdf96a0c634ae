//! CSV downloads (the audit log, the access review; API and dashboard alike): one way to
//! write a cell, a document and the response that offers it as a file.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A CSV document: the header line (column names, comma-separated), then a line per row,
/// CRLF line ends.
pub fn csv_document<const N: usize>(header: &str, rows: impl IntoIterator<Item = [String; N]>) -> String {
    let mut out = format!("{header}\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// One cell, RFC 4180 quoted; a cell a spreadsheet would run as a formula is prefixed
/// with `'`.
pub fn csv_cell(value: &str) -> String {
    let guarded =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A CSV download.
pub fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("-2,3"), "\"'-2,3\"");
    }

    #[test]
    fn a_document_is_a_header_and_crlf_lines() {
        let doc = csv_document("a,b", [["1".to_owned(), "x,y".to_owned()]]);
        assert_eq!(doc, "a,b\r\n1,\"x,y\"\r\n");
    }
}
