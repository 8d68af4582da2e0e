//! Opening a trace file: the one place a trace is opened, so that format detection, both
//! readers, and through them the pre-flight pass and the replay, read plain and
//! gzip-compressed traces alike.
//!
//! A file is gzip when it starts with the gzip magic bytes `1f 8b`, whatever its name
//! (the Parallel Workloads Archive publishes its logs as `.swf.gz`). It is decompressed as
//! it is read, one buffer at a time, never whole in memory or on disk, so a compressed
//! million-row trace streams like a plain one. Concatenated members (what `cat a.gz b.gz`
//! makes) read as one stream, as `gunzip` reads them.
//!
//! A UTF-8 byte order mark at the start of the (decompressed) text is skipped: spreadsheet
//! programs on Windows write one before the header of every CSV they export, and it
//! would otherwise become part of the first column's name or hide a first `;` or `#`.
//! Only regular files are read: a directory is refused at once, and a FIFO or a device,
//! which could block the reader forever, is refused before it is opened.
//!
//! Decompression errors (a truncated file, a corrupt block, a checksum that does not
//! match) surface as read errors saying so; the readers report them with the file and the
//! line they had reached, so a damaged download is never replayed as a shorter trace. A
//! file named `.gz` that is not gzip (an empty file left by an interrupted download, say)
//! is refused rather than read as an empty trace.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::TraceError;

/// The first two bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// U+FEFF encoded in UTF-8: the byte order mark some programs put before a text file.
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// A trace opened for reading line by line, decompressing when it is gzip.
pub(crate) enum TraceFile {
    Plain(BufReader<File>),
    /// Boxed: the inflate state is large, and most traces are plain.
    Gzip(Box<BufReader<Gunzip>>),
}

impl TraceFile {
    pub(crate) fn open(path: &Path) -> Result<TraceFile, TraceError> {
        let open_error = |source| TraceError::Open { path: path.to_path_buf(), source };
        if !std::fs::metadata(path).map_err(open_error)?.is_file() {
            return Err(open_error(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")));
        }
        let mut file = BufReader::new(File::open(path).map_err(open_error)?);
        // A regular file fills the buffer as far as it can, so a gzip file shows both bytes.
        let is_gzip = file.fill_buf().map_err(open_error)?.starts_with(&GZIP_MAGIC);
        let mut trace = if is_gzip {
            TraceFile::Gzip(Box::new(BufReader::new(Gunzip(MultiGzDecoder::new(file)))))
        } else if has_gz_extension(path) {
            return Err(open_error(io::Error::new(
                io::ErrorKind::InvalidData,
                "the name ends in .gz but the file is not gzip data (it does not start with 1f 8b)",
            )));
        } else {
            TraceFile::Plain(file)
        };
        trace.skip_bom().map_err(|source| TraceError::Read { path: path.to_path_buf(), line: 1, source })?;
        Ok(trace)
    }

    /// Consumes a UTF-8 byte order mark at the start of the text, if there is one.
    fn skip_bom(&mut self) -> io::Result<()> {
        // The first buffer of text holds all three bytes unless the text is shorter.
        if self.fill_buf()?.starts_with(&UTF8_BOM) {
            self.consume(UTF8_BOM.len());
        }
        Ok(())
    }
}

impl Read for TraceFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            TraceFile::Plain(file) => file.read(buf),
            TraceFile::Gzip(file) => file.read(buf),
        }
    }
}

impl BufRead for TraceFile {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            TraceFile::Plain(file) => file.fill_buf(),
            TraceFile::Gzip(file) => file.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            TraceFile::Plain(file) => file.consume(amount),
            TraceFile::Gzip(file) => file.consume(amount),
        }
    }
}

/// The decompressed bytes of a gzip file; its errors say that the gzip data is at fault,
/// since flate2's own ("corrupt deflate stream", "unexpected end of file") do not.
pub(crate) struct Gunzip(MultiGzDecoder<BufReader<File>>);

impl Read for Gunzip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                io::Error::new(e.kind(), "the gzip data ends early: the file is truncated")
            }
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
                io::Error::new(e.kind(), format!("the gzip data is corrupt ({e})"))
            }
            // The file itself could not be read (EIO...): say so as it is.
            _ => e,
        })
    }
}

fn has_gz_extension(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("gz"))
}

/// `x.swf.gz` -> `x.swf`: the name that says what the decompressed text is.
pub(crate) fn name_inside_gz(path: &Path) -> &Path {
    if has_gz_extension(path) {
        path.file_stem().map(Path::new).unwrap_or(path)
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::gzip;

    fn read_all(path: &Path) -> Result<String, String> {
        let mut text = String::new();
        let mut file = TraceFile::open(path).map_err(|e| e.to_string())?;
        file.read_to_string(&mut text).map_err(|e| e.to_string())?;
        Ok(text)
    }

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let text = "; Version: 2\n1 0 -1 1 1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1\n";
        for name in ["log.swf.gz", "log.swf", "LOG.GZ", "log"] {
            let path = dir.path().join(name);
            std::fs::write(&path, gzip(text.as_bytes())).unwrap();
            assert_eq!(read_all(&path).unwrap(), text, "{name}");
        }
        let plain = dir.path().join("plain.swf");
        std::fs::write(&plain, text).unwrap();
        assert_eq!(read_all(&plain).unwrap(), text);
    }

    #[test]
    fn concatenated_members_read_as_one_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv.gz");
        std::fs::write(&path, [gzip(b"a\nb\n"), gzip(b"c\n")].concat()).unwrap();
        assert_eq!(read_all(&path).unwrap(), "a\nb\nc\n");
    }

    #[test]
    fn a_gz_name_on_plain_or_empty_data_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [("empty.swf.gz", &b""[..]), ("plain.csv.gz", b"JobID,NNodes\n"), ("cut.gz", &[0x1f])] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = read_all(&path).unwrap_err();
            assert!(
                err.starts_with(&format!("{}: cannot read the trace: the name ends in .gz", path.display())),
                "{err}"
            );
        }
    }

    #[test]
    fn every_truncation_and_a_flipped_byte_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..200).map(|i| format!("{i} 0 -1 1 1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1\n")).collect();
        let whole = gzip(text.as_bytes());
        let path = dir.path().join("t.swf.gz");
        // Cut anywhere after the magic bytes: never a silently shorter text.
        for cut in 2..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let err = read_all(&path).expect_err(&format!("cut at {cut} of {}", whole.len()));
            assert!(err.contains("gzip"), "cut at {cut}: {err}");
        }
        let mut flipped = whole.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x55;
        std::fs::write(&path, &flipped).unwrap();
        let err = read_all(&path).unwrap_err();
        assert!(err.starts_with("the gzip data is corrupt"), "{err}");
    }

    #[test]
    fn the_name_inside_a_gz() {
        assert_eq!(name_inside_gz(Path::new("/a/x.swf.gz")), Path::new("x.swf"));
        assert_eq!(name_inside_gz(Path::new("x.csv.GZ")), Path::new("x.csv"));
        assert_eq!(name_inside_gz(Path::new("/a/x.swf")), Path::new("/a/x.swf"));
    }
}
