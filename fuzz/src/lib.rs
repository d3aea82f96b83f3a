//! What every reader target checks, beyond "does not panic": the same properties for each
//! format, so the targets differ only in the [`Format`] they pass.

use labrys::history::{ErrorKind, Format, ReadOptions, Summary, read_bytes};

/// Reads `data` strictly and leniently, and checks what the CLI would do with the result:
/// summarize a history, or render an error.
///
/// Properties checked:
/// - a read error is located (line and column from 1) and renders without panicking;
/// - a lenient read fails only where a strict read fails with a non-pairing error, and it
///   fails with that same error (pairing problems become warnings, nothing else changes);
/// - when the strict read succeeds, the lenient one yields the same ops.
pub fn check_reader(data: &[u8], format: Format) {
    let strict = read_bytes("fuzz", data, format, &ReadOptions { format: None, lenient: false });
    let lenient = read_bytes("fuzz", data, format, &ReadOptions { format: None, lenient: true });
    for result in [&strict, &lenient] {
        match result {
            Ok(history) => {
                let _ = Summary::of(history);
                let _ = history.heap_bytes();
            }
            Err(e) => {
                assert_ne!(e.kind, ErrorKind::Io, "an in-memory read cannot fail with I/O");
                assert!(e.line >= 1 && e.column >= 1, "unlocated error: {e:?}");
                let _ = e.to_string();
            }
        }
    }
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => assert_eq!(s.ops, l.ops, "lenient read changed the ops"),
        (Ok(_), Err(l)) => panic!("lenient read failed where strict succeeded: {l:?}"),
        // Up to a strict read's first error there was no pairing problem, so a lenient read
        // saw exactly the same events and must stop at the same place.
        (Err(s), _) if !s.kind.is_pairing() => {
            assert_eq!(Some(s), lenient.as_ref().err(), "lenient read disagrees on a non-pairing error")
        }
        (Err(_), Err(l)) => assert!(!l.kind.is_pairing(), "lenient read failed on pairing: {l:?}"),
        (Err(_), Ok(_)) => {}
    }
}

/// Reads `data` with the fast transactional reader and with the general reader plus the
/// transactional decoder, and checks that they agree, and that a check of what was read runs.
///
/// Properties checked:
/// - an error from the fast reader is the general reader's error, word for word;
/// - when the fast reader reads a history, the general reader reads the same ops, and decoding
///   their values gives every op the same micro-ops;
/// - checking the history gives the same verdict and anomaly types either way.
pub fn check_txn_reader(data: &[u8], format: Format) {
    use labrys::txn::{TxnOptions, check, check_decoded, decode, read};
    let options = ReadOptions { format: None, lenient: false };
    let fast = read::read_bytes("fuzz", data, format, &options, None);
    let general = read_bytes("fuzz", data, format, &options);
    match (fast, general) {
        (Err(f), Err(g)) => assert_eq!(f.to_string(), g.to_string(), "the readers disagree on the error"),
        (Err(f), Ok(_)) => panic!("only the fast reader failed: {f}"),
        (Ok(None), _) => {}
        (Ok(Some(_)), Err(g)) => panic!("only the general reader failed: {g}"),
        (Ok(Some((h, t))), Ok(g)) => {
            assert_eq!(h.ops.len(), g.ops.len(), "the readers found different ops");
            let decoded = decode(&g, t.workload).expect("what the fast reader decoded, the decoder decodes");
            for i in 0..h.ops.len() {
                assert_eq!(t.txn_text(i), decoded.txn_text(i), "op {i}'s micro-ops differ");
            }
            let opts = TxnOptions { workload: Some(t.workload), ..TxnOptions::default() };
            let a = check_decoded(&h, &t, &opts);
            if let Err(e) = labrys::certify::txn::certify_txn_report(&h, &t, &a, opts.clock_skew) {
                panic!("a claim failed its own check: {e}");
            }
            let b = check(&g, &opts).expect("decoded above");
            let kinds = |r: &labrys::txn::TxnReport| r.anomalies.iter().map(|a| a.kind.clone()).collect::<Vec<_>>();
            assert_eq!((a.valid, kinds(&a)), (b.valid, kinds(&b)), "the verdicts differ");
        }
    }
}
