//! Every history in `../shared/peers/porcupine/` reads without error, and the counts match the
//! ones that folder's README gives.

mod common;

use labrys::history::{Outcome, ReadOptions, Summary, read_file};

#[test]
fn etcd_histories_read_with_the_documented_counts() {
    let Some(dir) = common::porcupine_dir() else { return };
    let (mut files, mut invocations, mut ok, mut fail, mut info) = (0, 0, 0, 0, 0);
    for path in common::etcd_files(&dir) {
        let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        if h.ops.is_empty() {
            continue;
        }
        files += 1;
        invocations += h.ops.len();
        ok += h.count_outcome(Outcome::Ok);
        fail += h.count_outcome(Outcome::Fail);
        info += h.count_outcome(Outcome::Info) + h.count_outcome(Outcome::Open);
        assert!(h.warnings.is_empty(), "{}: {:?}", path.display(), h.warnings);
    }
    assert_eq!((files, invocations, ok, fail, info), (102, 8523, 5475, 1765, 1283));
}

#[test]
fn kv_histories_read_as_edn_with_keys() {
    let Some(dir) = common::porcupine_dir() else { return };
    let expected = [
        ("c01-ok", 58, 1, 10),
        ("c01-bad", 38, 1, 8),
        ("c10-ok", 337, 10, 10),
        ("c10-bad", 405, 10, 10),
        ("c50-ok", 1712, 50, 10),
        ("c50-bad", 2024, 50, 10),
    ];
    for (name, ops, processes, keys) in expected {
        let path = dir.join(format!("kv/{name}.txt"));
        let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let s = Summary::of(&h);
        assert_eq!((s.ops, s.processes, s.keys, s.crashed), (ops, processes, keys, 0), "{name}");
        assert!(h.warnings.is_empty(), "{name}: {:?}", h.warnings);
    }
}
