//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/peers/porcupine` beside the repository, when it is there. Tests that need it
/// print why they skip and pass, so a lone clone still gets a green `cargo test`.
pub fn porcupine_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/porcupine");
    if dir.join("expected.csv").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is not present", dir.display());
        None
    }
}

/// Every etcd history file, sorted by name.
pub fn etcd_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("jepsen"))
        .expect("jepsen folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

pub mod generate;

/// Path to the built `labrys` binary.
pub fn labrys_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_labrys"))
}

/// The repository's own `histories/` folder.
pub fn histories_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories")
}
