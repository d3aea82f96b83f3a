//! Every history in `../shared/peers/porcupine/` gets the verdict its `expected.csv` gives:
//! etcd files as a cas-register with initial nil, kv files with the kv model split by key.

mod common;

use labrys::check::{CheckConfig, check_history};
use labrys::history::{ReadOptions, read_file};
use labrys::outcome::Verdict;

#[test]
fn porcupine_histories_get_the_expected_verdicts() {
    let Some(dir) = common::porcupine_dir() else { return };
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in csv.lines().skip(1) {
        let mut cols = line.splitn(3, ',');
        let (file, expected) = (cols.next().unwrap(), cols.next().unwrap());
        let expected = match expected {
            "linearizable" => Verdict::Valid,
            "not_linearizable" => Verdict::Invalid,
            _ => continue,
        };
        let model = if file.starts_with("kv/") { "kv" } else { "cas-register" };
        let path = dir.join(file);
        let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let config = CheckConfig { model: Some(model.parse().unwrap()), ..CheckConfig::default() };
        let report = check_history(&h, &config).unwrap_or_else(|e| panic!("{file}: {e}")).remove(0);
        if report.valid != expected {
            wrong.push(format!("{file}: expected {expected:?}, got {:?}", report.valid));
        }
        if expected == Verdict::Invalid {
            // Every key gets its own verdict: none is left unknown.
            assert_eq!(report.stats.unknown_keys, 0, "{file}");
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{} wrong verdicts:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(checked, 108);
}
