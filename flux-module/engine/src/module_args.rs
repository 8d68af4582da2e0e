//! The `key=value` arguments of `flux module load ff-emu.so ...`.
//!
//! The broker splits module arguments on spaces, so every value is one token.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModuleArgs {
    /// Run directory prepared by `flux-fiction-prepare` (holds `config.toml`); no replay without it.
    pub run_dir: Option<PathBuf>,
    /// libfaketime timestamp file the module moves the instance's clock with.
    pub faketime_file: Option<PathBuf>,
}

const USAGE: &str = "expected run-dir=DIR and optionally faketime-file=PATH";

impl ModuleArgs {
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, String> {
        let mut parsed = ModuleArgs::default();
        for arg in args {
            let arg = arg.as_ref();
            let Some((key, value)) = arg.split_once('=') else {
                return Err(format!("argument '{arg}' is not key=value ({USAGE})"));
            };
            if value.is_empty() {
                return Err(format!("argument '{key}' has an empty value ({USAGE})"));
            }
            let slot = match key {
                "run-dir" => &mut parsed.run_dir,
                "faketime-file" => &mut parsed.faketime_file,
                _ => return Err(format!("unknown argument '{key}' ({USAGE})")),
            };
            if slot.replace(PathBuf::from(value)).is_some() {
                return Err(format!("argument '{key}' given twice"));
            }
        }
        if parsed.faketime_file.is_some() && parsed.run_dir.is_none() {
            return Err(format!("argument 'faketime-file' needs 'run-dir' ({USAGE})"));
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_means_idle() {
        assert_eq!(ModuleArgs::parse::<&str>(&[]).unwrap(), ModuleArgs::default());
    }

    #[test]
    fn known_keys_parse() {
        let a = ModuleArgs::parse(&["run-dir=/r", "faketime-file=/r/ft"]).unwrap();
        assert_eq!(a.run_dir, Some(PathBuf::from("/r")));
        assert_eq!(a.faketime_file, Some(PathBuf::from("/r/ft")));
    }

    #[test]
    fn errors_name_the_argument() {
        assert!(ModuleArgs::parse(&["bogus=1"]).unwrap_err().contains("'bogus'"));
        assert!(ModuleArgs::parse(&["run-dir"]).unwrap_err().contains("'run-dir'"));
        assert!(ModuleArgs::parse(&["run-dir="]).unwrap_err().contains("'run-dir'"));
        assert!(ModuleArgs::parse(&["run-dir=a", "run-dir=b"]).unwrap_err().contains("twice"));
        assert!(ModuleArgs::parse(&["faketime-file=x"]).unwrap_err().contains("needs"));
    }
}
