use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor};
use std::path::PathBuf;

/// Where interchange files are read from.
pub trait Source: Send + Sync {
    /// Opens `file` (e.g. `techniques.ndjson`), or `None` when the set does not have it:
    /// every file is optional.
    fn open(&self, file: &str) -> io::Result<Option<Box<dyn BufRead + Send>>>;

    /// The names of the files the set holds (hidden ones, starting with a dot, aside).
    fn names(&self) -> io::Result<Vec<String>>;
}

/// A directory on disk.
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn open(&self, file: &str) -> io::Result<Option<Box<dyn BufRead + Send>>> {
        match File::open(self.0.join(file)) {
            Ok(f) => Ok(Some(Box::new(BufReader::with_capacity(256 * 1024, f)))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn names(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.0)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

/// Files compiled into the binary (the demo content).
pub struct EmbeddedSource(pub &'static [(&'static str, &'static str)]);

impl Source for EmbeddedSource {
    fn open(&self, file: &str) -> io::Result<Option<Box<dyn BufRead + Send>>> {
        Ok(self
            .0
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| Box::new(Cursor::new(text.as_bytes())) as Box<dyn BufRead + Send>))
    }

    fn names(&self) -> io::Result<Vec<String>> {
        Ok(self.0.iter().map(|(name, _)| (*name).to_owned()).collect())
    }
}
