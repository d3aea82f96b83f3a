//! Fuzzes `edn::parse_value` (used for `--init` and by the text-log reader), and checks that
//! what it parses prints back as EDN that parses to the same value.
#![no_main]

use labrys::history::edn::parse_value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_value(text) {
        Ok(v) => {
            let printed = v.to_string();
            let again =
                parse_value(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}: {e}"));
            assert_eq!(v, again, "{text:?} printed as {printed:?}");
        }
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "unlocated error: {e:?}");
            let _ = e.to_string();
        }
    }
});
