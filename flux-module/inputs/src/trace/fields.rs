//! Splits one line of a delimited trace into fields, with csv-core doing the quoting
//! rules. Lines are read by the caller, one row per line, so that every row knows its
//! exact line number: the csv crate's own reader miscounts lines after comment and
//! blank lines, and a wrong line number in an error is worse than none.

/// Fields of the last line split; buffers are reused from line to line.
pub(crate) struct FieldSplitter {
    parser: csv_core::Reader,
    /// Unquoted field bytes, back to back.
    bytes: Vec<u8>,
    /// End offset of each field in `bytes`.
    ends: Vec<usize>,
    count: usize,
}

impl FieldSplitter {
    pub(crate) fn new(delimiter: u8) -> Self {
        FieldSplitter {
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            bytes: vec![0; 256],
            ends: vec![0; 32],
            count: 0,
        }
    }

    /// Splits `line` (without its line ending).
    pub(crate) fn split(&mut self, line: &str) {
        self.parser.reset();
        let mut input = line.as_bytes();
        let (mut written, mut count) = (0, 0);
        loop {
            let (result, read, out, ends) =
                self.parser.read_record(input, &mut self.bytes[written..], &mut self.ends[count..]);
            input = &input[read..];
            written += out;
            count += ends;
            match result {
                csv_core::ReadRecordResult::OutputFull => self.bytes.resize(self.bytes.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                // An empty input tells the parser the row is complete.
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        self.count = count;
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Field `i` of the last line, with surrounding spaces removed.
    pub(crate) fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        std::str::from_utf8(&self.bytes[start..self.ends[i]])
            .expect("fields of a str with only ASCII quotes removed are UTF-8")
            .trim()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.count).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_trims_and_unquotes() {
        let mut s = FieldSplitter::new(b',');
        s.split(" 1,\"a,b\" ,,x");
        assert_eq!(s.iter().collect::<Vec<_>>(), ["1", "a,b", "", "x"]);
        let long = "y".repeat(1000);
        s.split(&format!("{long},{}", ",".repeat(40)));
        assert_eq!((s.len(), s.get(0).len()), (42, 1000));
        let mut pipes = FieldSplitter::new(b'|');
        pipes.split("a|b|");
        assert_eq!(pipes.iter().collect::<Vec<_>>(), ["a", "b", ""]);
    }
}
