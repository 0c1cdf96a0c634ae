//! CSV downloads (the audit log, the access review; API and dashboard alike): one way to
//! write a cell, a document and the response that offers it as a file.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A CSV document: the header line (column names, comma-separated), then a line per row,
/// CRLF line ends.
pub fn csv_document<const N: usize>(header: &str, rows: impl IntoIterator<Item = [String; N]>) -> String {
    let mut out = format!("{header}\r\n");
    for row in rows {
        out.push_str(&csv_line(row));
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

/// A CSV download streamed a page at a time: `page(cursor)` gives the lines after the
/// cursor and the next cursor (`None` at the end), so a million rows never sit in memory.
pub fn csv_stream<F, Fut>(filename: &str, header: &'static str, page: F) -> Response
where
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = crate::error::ApiResult<(String, Option<String>)>> + Send,
{
    enum Step {
        Header,
        After(Option<String>),
        Done,
    }
    let page = std::sync::Arc::new(page);
    let stream = futures_util::stream::unfold(Step::Header, move |step| {
        let page = page.clone();
        async move {
            match step {
                Step::Done => None,
                Step::Header => Some((Ok(Bytes::from(format!("{header}\r\n"))), Step::After(None))),
                Step::After(cursor) => match page(cursor).await {
                    Ok((text, next)) => {
                        let step = if next.is_some() { Step::After(next) } else { Step::Done };
                        Some((Ok(Bytes::from(text)), step))
                    }
                    Err(e) => {
                        tracing::error!(error = %e.detail, "a CSV download failed mid-stream");
                        Some((Err(std::io::Error::other("the download failed")), Step::Done))
                    }
                },
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// One CSV line (CRLF-terminated) of cells.
pub fn csv_line<const N: usize>(cells: [String; N]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
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
