//! Workspace root discovery: where env files, `.env`, the cookie jar and the remembered
//! environment are looked up from (`docs/environments.md`).

use std::path::{Path, PathBuf};

/// The workspace root of `file`: the nearest folder above it holding `.git`, or the
/// editor workspace folder (from `editor_folders`) that contains it, whichever is
/// nearer; with neither, the file's own folder.
///
/// `file` should be absolute (relative paths are made absolute against the current
/// directory, so that the upward walk does not stop early at `""`).
pub fn workspace_root(file: &Path, editor_folders: &[PathBuf]) -> PathBuf {
    let file = absolute(file);
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    // Walk upward once; the first folder that is either a git root or an editor
    // workspace folder is the nearer of the two by construction.
    for folder in dir.ancestors() {
        if folder.join(".git").exists() || editor_folders.iter().any(|f| same_path(f, folder)) {
            return folder.to_path_buf();
        }
    }
    dir
}

/// The folders from `start` up to and including `root`, nearest first. When `root` is
/// not an ancestor of `start`, only `start` itself is searched (never the whole disk).
pub fn folders_up_to(start: &Path, root: &Path) -> Vec<PathBuf> {
    let start = absolute(start);
    let root = absolute(root);
    let mut out = Vec::new();
    for folder in start.ancestors() {
        out.push(folder.to_path_buf());
        if same_path(folder, &root) {
            return out;
        }
    }
    vec![start]
}

/// `path` made absolute against the current directory, without touching the disk
/// beyond that (symlinks are kept as written).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    // Editors may hand over paths with a trailing slash or through a symlink.
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_root_editor_folder_and_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        let file = deep.join("x.http");
        // Neither: the file's folder.
        assert_eq!(workspace_root(&file, &[]), deep);
        // Editor folder containing the file.
        assert_eq!(workspace_root(&file, &[root.join("a")]), root.join("a"));
        // A git root nearer than the editor folder wins.
        std::fs::create_dir_all(root.join("a/b/.git")).unwrap();
        assert_eq!(workspace_root(&file, &[root.join("a")]), root.join("a/b"));
        // An editor folder nearer than the git root wins.
        assert_eq!(workspace_root(&file, std::slice::from_ref(&deep)), deep);
        assert_eq!(
            folders_up_to(&deep, &root.join("a")),
            vec![deep.clone(), root.join("a/b"), root.join("a")]
        );
        // A root that is not above: only the start folder.
        assert_eq!(folders_up_to(&deep, Path::new("/nonexistent")), vec![deep]);
    }
}
