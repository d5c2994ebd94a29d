//! Writing generated files so that a second run on the same input changes
//! nothing: a file whose content is already right is not touched (Cargo
//! decides what to rebuild from modification times), and paths written
//! into generated files are relative where the reader allows it.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `content` to `path` unless it already holds exactly that,
/// creating the parent directories.
pub fn write_if_changed(path: &Path, content: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    std::fs::write(path, content).map_err(Error::io(path))
}

/// `path` made absolute and free of `.` and `..`, lexically, as Cargo
/// reads the paths of dependencies: symlinks are not followed, so that a
/// crate reached through a symlinked directory is the same package for
/// every Cargo.toml that names it.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(Error::io("."))?;
    let mut out = PathBuf::new();
    for c in cwd.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The relative path from directory `from` to `to`, both absolute.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// A path as text with `/` separators, for Cargo.toml, go.mod and cgo.
pub fn slash(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b/c"), Path::new("/a/d/e.a")),
            PathBuf::from("../../d/e.a")
        );
        assert_eq!(
            relative(Path::new("/a"), Path::new("/a")),
            PathBuf::from(".")
        );
        assert_eq!(
            relative(Path::new("/a"), Path::new("/a/x")),
            PathBuf::from("x")
        );
    }
}
