//! A model of the user's own (the max register of `examples/custom_model.rs`) gets, in one
//! call ([`check_with_model`]), the verdicts, certification and reports the built-in models get.

#[path = "../examples/custom_model.rs"]
mod custom_model;

use custom_model::MaxRegister;
use labrys::check::{CheckConfig, CheckError, check_with_model};
use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::outcome::Verdict;
use labrys::report::ci::{CaseOutcome, junit};
use labrys::report::html::HtmlReport;

fn history(text: &str) -> History {
    read_bytes("max.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

/// p0 writes 3; p1's write of 5 crashes; p2 reads 3, then 5: the crashed write took effect
/// between the reads.
const VALID: &str = "\
{:process 0 :type :invoke :f :write :value 3}
{:process 0 :type :ok :f :write :value 3}
{:process 1 :type :invoke :f :write :value 5}
{:process 2 :type :invoke :f :read :value nil}
{:process 2 :type :ok :f :read :value 3}
{:process 1 :type :info :f :write :value 5}
{:process 2 :type :invoke :f :read :value nil}
{:process 2 :type :ok :f :read :value 5}
";

/// p0 writes 5 and then 3; p1 reads 3 after both completed, but the max is 5.
const INVALID: &str = "\
{:process 0 :type :invoke :f :write :value 5}
{:process 0 :type :ok :f :write :value 5}
{:process 0 :type :invoke :f :write :value 3}
{:process 0 :type :ok :f :write :value 3}
{:process 1 :type :invoke :f :read :value nil}
{:process 1 :type :ok :f :read :value 3}
";

#[test]
fn the_example_runs() {
    custom_model::main();
}

#[test]
fn a_valid_history_is_valid_with_its_certified_order() {
    let h = history(VALID);
    let config = CheckConfig { linearization: true, ..CheckConfig::default() };
    let reports = check_with_model(&MaxRegister, &h, &config).unwrap();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(
        (r.valid, r.model.as_str(), r.consistency.to_string().as_str()),
        (Verdict::Valid, "max-register", "linearizable")
    );
    assert!(r.anomalies.is_empty());
    // Every claim was re-derived: no warning says otherwise.
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // The order found, as the ops' :index: write 3, read 3, write 5, read 5.
    assert_eq!(r.keys[0].linearization.as_deref(), Some(&[0, 3, 2, 6][..]));
    assert!(r.to_text().starts_with("max.edn: valid (4 ops, max-register, linearizable)"));
}

#[test]
fn an_invalid_history_is_invalid_in_every_report() {
    let h = history(INVALID);
    let reports = check_with_model(&MaxRegister, &h, &CheckConfig::default()).unwrap();
    let r = &reports[0];
    assert_eq!(r.valid, Verdict::Invalid);
    assert_eq!(r.anomalies[0].kind, "not-linearizable");
    assert!(r.anomalies[0].explanation.contains("read 3"), "{}", r.anomalies[0].explanation);
    let text = r.to_text();
    assert!(text.starts_with("max.edn: INVALID"), "{text}");
    assert!(text.contains("read 3 is impossible when the state is 5"), "{text}");
    let json = serde_json::to_value(r).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["model"], "max-register");
    let xml = junit(&[CaseOutcome::Checked(r)]);
    assert!(xml.contains("failures=\"1\"") && xml.contains("<failure"), "{xml}");
    let mut html = HtmlReport::new();
    html.add(&h, None, &reports);
    assert!(html.render().contains("max-register"));
}

#[test]
fn consistency_levels_and_notes_are_the_built_in_ones() {
    // p1 reads 0 after p0's write of 5 completed: stale, so not linearizable, but sequentially
    // consistent (p1's read can be ordered first).
    let h = history(
        "{:process 0 :type :invoke :f :write :value 5}\n{:process 0 :type :ok :f :write :value 5}\n\
         {:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value 0}\n",
    );
    let config = CheckConfig {
        consistency: Some(labrys::vocab::ConsistencyLevel::parse_list("linearizable,sequential").unwrap()),
        ..CheckConfig::default()
    };
    let reports = check_with_model(&MaxRegister, &h, &config).unwrap();
    let verdicts: Vec<_> = reports.iter().map(|r| (r.consistency.to_string(), r.valid)).collect();
    assert_eq!(
        verdicts,
        [("linearizable".to_string(), Verdict::Invalid), ("sequential".to_string(), Verdict::Valid)]
    );
    assert!(reports[1].note.as_deref().unwrap().starts_with("sequentially consistent but not linearizable"));
    // The model and its initial state are the one given, whatever the configuration names.
    let named = CheckConfig {
        model: Some("register".parse().unwrap()),
        init: Some(7.into()),
        ..CheckConfig::default()
    };
    let r = &check_with_model(&MaxRegister, &h, &named).unwrap()[0];
    assert_eq!((r.model.as_str(), r.valid), ("max-register", Verdict::Invalid));
}

#[test]
fn ops_the_model_does_not_know_and_empty_histories() {
    let h = history(
        "{:process 0 :type :invoke :f :cas :value [1 2]}\n{:process 0 :type :ok :f :cas :value [1 2]}\n",
    );
    let err = check_with_model(&MaxRegister, &h, &CheckConfig::default()).unwrap_err();
    assert!(matches!(err, CheckError::Decode(_)));
    assert!(err.to_string().contains("a max register has no :cas"), "{err}");
    let bad = CheckConfig {
        consistency: Some(labrys::vocab::ConsistencyLevel::parse_list("serializable").unwrap()),
        ..CheckConfig::default()
    };
    assert!(matches!(
        check_with_model(&MaxRegister, &history(VALID), &bad),
        Err(CheckError::UnknownConsistency(_))
    ));
    let empty = history("");
    assert_eq!(
        check_with_model(&MaxRegister, &empty, &CheckConfig::default()).unwrap()[0].valid,
        Verdict::Unknown
    );
}
