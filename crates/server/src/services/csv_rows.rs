//! CSV rows from a byte stream fed in pieces (an upload, chunks from the database),
//! without holding the file: quoted fields may span pieces. A row that is too long, has
//! too many columns or is not UTF-8 comes out as a refused row, and parsing goes on.

use csv_core::{ReadRecordResult, Reader};

/// Longest row accepted, in bytes.
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// Most columns a row may have.
pub const MAX_COLUMNS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Fields(Vec<String>),
    Refused(String),
}

pub struct Rows {
    reader: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    too_long: bool,
    too_wide: bool,
    done: bool,
}

impl Default for Rows {
    fn default() -> Self {
        Self {
            reader: Reader::new(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            too_long: false,
            too_wide: false,
            done: false,
        }
    }
}

impl Rows {
    /// Parses `input`, appending every complete row to `rows`. Call once more with
    /// `end = true` (and any input) when the data is over.
    pub fn feed(&mut self, mut input: &[u8], end: bool, rows: &mut Vec<Row>) {
        if self.done {
            return;
        }
        loop {
            // An empty input tells the reader the data is over: only give one at the end.
            if input.is_empty() && !end {
                return;
            }
            let (res, nin, nout, nend) =
                self.reader.read_record(input, &mut self.out[self.out_len..], &mut self.ends[self.ends_len..]);
            input = &input[nin..];
            self.out_len += nout;
            self.ends_len += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.out.len() <= MAX_ROW_BYTES {
                        self.out.resize(self.out.len() * 2, 0);
                    } else {
                        self.too_long = true;
                        self.out_len = 0;
                        self.ends_len = 0;
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() <= MAX_COLUMNS {
                        self.ends.resize(self.ends.len() * 2, 0);
                    } else {
                        self.too_wide = true;
                        self.ends_len = 0;
                        self.out_len = 0;
                    }
                }
                ReadRecordResult::Record => self.emit(rows),
                ReadRecordResult::End => {
                    self.done = true;
                    return;
                }
            }
        }
    }

    fn emit(&mut self, rows: &mut Vec<Row>) {
        let row = if self.too_long {
            Row::Refused(format!("the row is longer than {} KB", MAX_ROW_BYTES / 1024))
        } else if self.too_wide || self.ends_len > MAX_COLUMNS {
            Row::Refused(format!("the row has more than {MAX_COLUMNS} columns"))
        } else {
            let mut fields = Vec::with_capacity(self.ends_len);
            let mut start = 0;
            let mut utf8 = true;
            for &end in &self.ends[..self.ends_len] {
                match std::str::from_utf8(&self.out[start..end]) {
                    Ok(s) => fields.push(s.to_owned()),
                    Err(_) => utf8 = false,
                }
                start = end;
            }
            if utf8 {
                Row::Fields(fields)
            } else {
                Row::Refused("the row is not valid UTF-8".to_owned())
            }
        };
        self.out_len = 0;
        self.ends_len = 0;
        self.too_long = false;
        self.too_wide = false;
        // A blank line is not a row.
        if row != Row::Fields(vec![String::new()]) {
            rows.push(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(data: &[u8], piece: usize) -> Vec<Row> {
        let mut p = Rows::default();
        let mut rows = Vec::new();
        for chunk in data.chunks(piece) {
            p.feed(chunk, false, &mut rows);
        }
        p.feed(&[], true, &mut rows);
        rows
    }

    #[test]
    fn p1_rows_survive_any_split_and_odd_input_is_refused_row_by_row() {
        let data = b"phone,name\r\n+911,\"Rao, Asha\"\n\n+912,\"multi\nline\"\n+913,last";
        for piece in [1, 2, 3, 7, 1000] {
            let rows = parse_in_pieces(data, piece);
            assert_eq!(rows.len(), 4, "piece {piece}: {rows:?}");
            assert_eq!(rows[1], Row::Fields(vec!["+911".into(), "Rao, Asha".into()]));
            assert_eq!(rows[2], Row::Fields(vec!["+912".into(), "multi\nline".into()]));
            assert_eq!(rows[3], Row::Fields(vec!["+913".into(), "last".into()]));
        }
        let mut bad = b"phone\n".to_vec();
        bad.extend_from_slice(b"\xff\xfe\n");
        bad.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES * 2));
        bad.extend_from_slice(b"\nok\n");
        let rows = parse_in_pieces(&bad, 4096);
        assert!(matches!(&rows[1], Row::Refused(r) if r.contains("UTF-8")), "{:?}", rows[1]);
        assert!(matches!(&rows[2], Row::Refused(r) if r.contains("longer")));
        assert_eq!(rows[3], Row::Fields(vec!["ok".into()]));
        let wide = format!("{}\n", vec!["c"; MAX_COLUMNS + 10].join(","));
        assert!(matches!(&parse_in_pieces(wide.as_bytes(), 100)[0], Row::Refused(r) if r.contains("columns")));
        assert!(parse_in_pieces(b"", 10).is_empty());
    }
}
